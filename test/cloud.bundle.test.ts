// The shared bundler's checks that need no esbuild run or npm install: native binaries of the
// wrong CPU or OS are refused, what the target never loads or that holds this machine's paths is
// dropped, npm runs no install scripts, versions are pinned to the project's, and a bad platform
// is refused up front.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertNativeArchitecture, nativeArchitecture } from "../src/cloud/bundle-arch.js";
import { npmInstallArgs, pinnedVersions, shippable } from "../src/cloud/bundle-install.js";
import { bundle } from "../src/cloud/bundle.js";
import { ExecutionError, InvalidError } from "../src/core/errors.js";

/** The first 64 bytes of a 64-bit ELF shared object for `machine`, in the byte order given. */
function elfHeader(machine: number, bigEndian = false): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1]);
  const view = new DataView(bytes.buffer);
  view.setUint16(16, 3, !bigEndian); // e_type: ET_DYN
  view.setUint16(18, machine, !bigEndian);
  return bytes;
}

const AARCH64 = elfHeader(0xb7);
const X86_64 = elfHeader(0x3e);
const MACH_O_ARM64 = Uint8Array.from([0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]);
const PE = Uint8Array.from([0x4d, 0x5a, 0x90, 0x00]);
const text = (s: string) => new TextEncoder().encode(s);

describe("cloud bundle: native binary architecture", () => {
  it("reads the CPU from an ELF header's e_machine in either byte order, and names what else a file is", () => {
    expect(nativeArchitecture(AARCH64)).toBe("arm64");
    expect(nativeArchitecture(X86_64)).toBe("x64");
    expect(nativeArchitecture(elfHeader(0xb7, true))).toBe("arm64");
    expect(nativeArchitecture(elfHeader(0x28))).toBe("ELF machine 0x28");
    expect(nativeArchitecture(MACH_O_ARM64)).toBe("Mach-O (macOS)");
    expect(nativeArchitecture(Uint8Array.from([0xca, 0xfe, 0xba, 0xbe]))).toBe("Mach-O (macOS)");
    expect(nativeArchitecture(PE)).toBe("PE (Windows)");
    expect(nativeArchitecture(AARCH64.subarray(0, 10))).toBe("not a native binary");
    expect(nativeArchitecture(text("module.exports = {}"))).toBe("not a native binary");
  });

  it("accepts .node files of the target CPU and ignores other files", () => {
    const files = new Map([
      ["node_modules/a/a.node", AARCH64],
      ["node_modules/a/index.js", text("x")],
      ["node_modules/a/notes.txt", X86_64],
    ]);
    expect(() => assertNativeArchitecture(files, "arm64")).not.toThrow();
    expect(() => assertNativeArchitecture(new Map([["b.node", X86_64]]), "x64")).not.toThrow();
  });

  it("refuses an x64 addon in an arm64 bundle (and the reverse), naming the file and both CPUs", () => {
    const built = "node_modules/cbor-extract/build/Release/extract.node";
    expect(() => assertNativeArchitecture(new Map([[built, X86_64]]), "arm64")).toThrow(ExecutionError);
    expect(() => assertNativeArchitecture(new Map([[built, X86_64]]), "arm64")).toThrow(
      `${built} is built for x64, but the bundle targets linux arm64`,
    );
    expect(() => assertNativeArchitecture(new Map([["x.node", AARCH64]]), "x64")).toThrow(
      "x.node is built for arm64, but the bundle targets linux x64",
    );
  });

  it("refuses macOS and Windows binaries and files that are no binary at all", () => {
    for (const [bytes, found] of [
      [MACH_O_ARM64, "Mach-O (macOS)"],
      [PE, "PE (Windows)"],
      [text("not elf"), "not a native binary"],
    ] as const) {
      expect(() => assertNativeArchitecture(new Map([["m.node", bytes]]), "arm64")).toThrow(
        `m.node is built for ${found}, but the bundle targets linux arm64`,
      );
    }
  });
});

describe("cloud bundle: what is shipped", () => {
  it("drops node-gyp build folders, npm's own records and other platforms' prebuilds; keeps the rest", () => {
    const kept = [
      "node_modules/a/index.js",
      "node_modules/pure/build/index.js", // a package's compiled JS, not node-gyp output
      "node_modules/p/prebuilds/linux-arm64/p.glibc.node",
      "node_modules/p/index.js",
    ];
    const dropped = [
      "node_modules/.package-lock.json",
      "node_modules/.bin/tool",
      "node_modules/native/build/Makefile",
      "node_modules/native/build/config.gypi",
      "node_modules/native/build/Release/native.node",
      "node_modules/native/build/Release/obj.target/native/src/native.o",
      "node_modules/@scope/addon/build/config.gypi",
      "node_modules/@scope/addon/build/Release/addon.node",
      "node_modules/p/prebuilds/linux-x64/p.glibc.node",
      "node_modules/p/prebuilds/darwin-x64+arm64/p.node",
      "node_modules/p/prebuilds/win32-arm64/p.node",
    ];
    const files = new Map([...kept, ...dropped].map((path) => [path, text(path)]));
    expect([...shippable(files, "arm64").keys()].sort()).toEqual([...kept].sort());
  });

  it("runs npm without install scripts, for linux and glibc on the target CPU, optional packages included", () => {
    for (const cpu of ["arm64", "x64"] as const) {
      const args = npmInstallArgs(cpu);
      expect(args[0]).toBe("install");
      expect(args).toEqual(
        expect.arrayContaining(["--ignore-scripts", "--os=linux", `--cpu=${cpu}`, "--libc=glibc", "--include=optional"]),
      );
    }
  });

  it("pins every package of an installed one's tree to the version the project resolves, except names at two versions", () => {
    const root = mkdtempSync(join(tmpdir(), "faasade-pins-"));
    const pkg = (dir: string, json: object) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify(json));
    };
    try {
      const nm = join(root, "node_modules");
      pkg(join(nm, "native"), { name: "native", version: "1.0.0", dependencies: { helper: "^2", shared: "^1" } });
      pkg(join(nm, "native-linux-x64"), { name: "native-linux-x64", version: "1.0.0" });
      pkg(join(nm, "shared"), { name: "shared", version: "1.1.0" });
      // helper's own, nested copy of shared at another version: `shared` is left to npm.
      pkg(join(nm, "helper", "node_modules", "shared"), { name: "shared", version: "0.9.0" });
      // native-linux-arm64 is another platform's package, absent here: left to helper's spec.
      pkg(join(nm, "helper"), {
        name: "helper",
        version: "2.3.4",
        dependencies: { shared: "^0.9" },
        optionalDependencies: { "native-linux-x64": "1.0.0", "native-linux-arm64": "1.0.0" },
      });
      expect(Object.fromEntries(pinnedVersions([join(nm, "native")]))).toEqual({
        native: "1.0.0",
        helper: "2.3.4",
        "native-linux-x64": "1.0.0",
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses a platform it cannot install for, quoting the value, before bundling", async () => {
    const options = { module: "test/fixtures/aws-app.mjs", entry: () => "" };
    await expect(bundle({ ...options, platform: { os: "linux", cpu: "x86_64" as "x64" } })).rejects.toThrow(
      new InvalidError('bundle platform.cpu must be "arm64" or "x64", got "x86_64"'),
    );
    await expect(bundle({ ...options, platform: { os: "darwin" as "linux", cpu: "arm64" } })).rejects.toThrow(InvalidError);
  });
});
