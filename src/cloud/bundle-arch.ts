/**
 * What a bundle's native addons (`.node` files) were built for, read from their headers, so a
 * zip never ships a binary the target cannot load (an x64 addon compiled on the build machine in
 * an arm64 zip fails only when the function first imports it, in the cloud).
 */
import { ExecutionError } from "../core/errors.js";

export type Cpu = "arm64" | "x64";

/** ELF e_machine values of the CPUs a bundle can target. */
const ELF_MACHINES: Record<number, Cpu> = { 183: "arm64", 62: "x64" };

/**
 * The CPU a native addon is for (`arm64`, `x64`), or what else it is: an ELF of another machine,
 * a Mach-O (macOS) or PE (Windows) binary, or not a binary at all.
 */
export function nativeArchitecture(bytes: Uint8Array): string {
  if (bytes.length >= 20 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    // e_machine: 2 bytes at offset 18, in the byte order EI_DATA (offset 5) names: 1 little, 2 big.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const machine = view.getUint16(18, bytes[5] !== 2);
    return ELF_MACHINES[machine] ?? `ELF machine 0x${machine.toString(16)}`;
  }
  if (bytes.length >= 4) {
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) return "Mach-O (macOS)";
  }
  if (bytes.length >= 2 && bytes[0] === 0x4d && bytes[1] === 0x5a) return "PE (Windows)";
  return "not a native binary";
}

/** Throws when a `.node` file among `files` (zip path → bytes) is not a Linux binary for `cpu`. */
export function assertNativeArchitecture(files: Iterable<[string, Uint8Array]>, cpu: Cpu): void {
  for (const [path, bytes] of files) {
    if (!path.endsWith(".node")) continue;
    const found = nativeArchitecture(bytes);
    if (found !== cpu) {
      throw new ExecutionError(
        `${path} is built for ${found}, but the bundle targets linux ${cpu}: its package compiled or ` +
          "shipped a binary for another platform. Use a package that publishes prebuilt binaries for " +
          `linux ${cpu}, or provide it to the function another way (e.g. a Lambda layer)`,
      );
    }
  }
}
