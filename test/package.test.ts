// The package as a user gets it (fixtures/packed-project.ts): `npm pack` of a fresh build,
// installed into an empty project outside this repository with only its declared dependencies
// and what the docs tell users to add. Everything below runs from that project alone: its
// node_modules/faasade, its node_modules/.bin, a HOME and FAASADE_HOME of its own, no variable
// of this test run. This is where a packaging mistake (a file left out of "files", an export
// that points nowhere, a dependency that should be a peer, the bin's shebang) shows.
import { accessSync, constants, existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedProject, REPO, packedProject, pinned, run } from "./fixtures/packed-project.js";

/** README's and docs/aws.md's installs for a TypeScript app on the local provider and on the offline AWS backend. */
const USER_INSTALLS = [
  "tsx",
  "typescript",
  "@types/node",
  "better-sqlite3",
  "@aws-sdk/client-lambda",
  "@aws-sdk/client-sqs",
  "@aws-sdk/client-s3",
  "fauxqs",
  "aws-lambda-ric",
  "@smithy/eventstream-codec",
  "@smithy/util-utf8",
];

const APP = `import { App } from "faasade";

export const app = new App("packed-app");

export const square = app.function(async function square(x: number): Promise<number> {
  return x * x;
});

app.localEntrypoint(async () => {
  const one = await square.remote(3);
  const many: number[] = [];
  for await (const r of square.map([1, 2, 3])) many.push(r);
  console.log(JSON.stringify({ one, many }));
});
`;

const BACKEND = `import { Function } from "faasade";
import { startTestBackend } from "faasade/testing";

const backend = await startTestBackend("aws", { module: new URL("./app.ts", import.meta.url) });
try {
  const square = Function.fromName<(x: number) => Promise<number>>("packed-app", "square", { provider: backend.provider });
  const call = await square.spawn(5);
  console.log(JSON.stringify({ remote: await square.remote(4), spawned: await call.get() }));
} finally {
  await backend.close();
}
`;

/** An error thrown inside faasade, its stack as tsx (source maps on) shows it. */
const STACK = `import { App } from "faasade";

try {
  new App("Not An App Name");
} catch (err) {
  console.log(JSON.stringify({ name: (err as Error).name, stack: (err as Error).stack }));
}
`;

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
  },
  include: ["*.ts"],
});

/** Warnings that must never reach a user's terminal. */
const NOISE = /NodeVersionSupportWarning|require node >=22|Stream of unknown length|ExperimentalWarning/;

let project: PackedProject;
beforeAll(async () => {
  project = await packedProject({
    dependencies: USER_INSTALLS,
    files: { "app.ts": APP, "backend.ts": BACKEND, "stack.ts": STACK, "tsconfig.json": TSCONFIG },
  });
  console.log(`packed-project timings (s): ${JSON.stringify(project.timings)}`);
}, 600_000);
afterAll(() => project?.remove(), 120_000); // a node_modules of its own: slow to remove on a loaded machine

const bin = (name: string) => join(project.dir, "node_modules", ".bin", name);
const inProject = (command: string, args: string[], extraEnv: Record<string, string> = {}) =>
  run(command, args, { cwd: project.dir, env: project.env(extraEnv), timeoutMs: 120_000 });

describe("the packed package, installed into a new project", { timeout: 180_000 }, () => {
  it("is the package, not this repository: a real folder outside it, found by the project alone", () => {
    const installed = join(project.dir, "node_modules", "faasade");
    expect(project.dir.startsWith(REPO)).toBe(false);
    expect(readdirSync(installed)).toContain("package.json");
    // Nothing above the project has a faasade node resolution could climb to.
    for (let d = dirname(project.dir); d !== dirname(d); d = dirname(d)) {
      expect(existsSync(join(d, "node_modules", "faasade")), d).toBe(false);
    }
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version);
  });

  it("installs every package at the version package-lock.json pins (what npm ci put in the cache)", () => {
    const installed = JSON.parse(readFileSync(join(project.dir, "node_modules", ".package-lock.json"), "utf8")).packages;
    const repo = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")).packages;
    const differ = Object.entries(installed as Record<string, { version: string }>)
      .filter(([path]) => path !== "node_modules/faasade")
      .filter(([path, entry]) => repo[path]?.version !== entry.version)
      .map(([path, entry]) => `${path}@${entry.version} (repo: ${repo[path]?.version ?? "none"})`);
    expect(differ).toEqual([]);
    for (const name of USER_INSTALLS) expect(installed[`node_modules/${name}`]?.version, name).toBe(pinned(name));
  });

  it("ships every file its exports and bin name, the bin as an executable node script, and no tests", () => {
    const manifest = JSON.parse(readFileSync(join(project.dir, "node_modules", "faasade", "package.json"), "utf8"));
    const targets: string[] = [];
    for (const target of Object.values(manifest.exports as Record<string, string | Record<string, string>>)) {
      targets.push(...(typeof target === "string" ? [target] : Object.values(target)));
    }
    targets.push(...Object.values(manifest.bin as Record<string, string>));
    const missing = targets.map((t) => t.replace(/^\.\//, "")).filter((t) => !project.packed.includes(t));
    expect(missing).toEqual([]);
    expect(project.packed.filter((p) => /^test\/|\.test\.|tsbuildinfo/.test(p))).toEqual([]);
    const cli = join(project.dir, "node_modules", "faasade", manifest.bin.faasade);
    expect(readFileSync(cli, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(() => accessSync(bin("faasade"), constants.X_OK)).not.toThrow();
  });

  it("imports no package it does not declare (dependencies, or optional peers loaded when asked for)", () => {
    const root = join(project.dir, "node_modules", "faasade");
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const declared = new Set([
      "faasade",
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const imported = new Set<string>();
    for (const file of readdirSync(join(root, "dist", "src"), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".js")) continue;
      const code = readFileSync(join(root, "dist", "src", file), "utf8");
      // Static imports and re-exports (statements that start a line, as tsc emits them) and import("...").
      const statements = /^\s*import\s*"([^"]+)"|^\s*(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;
      for (const m of code.matchAll(statements)) {
        const spec = (m[1] ?? m[2] ?? m[3]) as string;
        if (spec.startsWith("node:") || spec.startsWith(".")) continue;
        imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string));
      }
    }
    expect(imported.size).toBeGreaterThan(3);
    expect([...imported].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("type-checks a strict TypeScript app against the shipped declarations", async () => {
    const ran = await inProject(bin("tsc"), ["-p", "tsconfig.json"]);
    expect(ran.stdout + ran.stderr).toBe("");
    expect(ran.code).toBe(0);
  });

  it("runs a TypeScript app through tsx on the local provider: remote and map", async () => {
    const ran = await inProject(bin("tsx"), ["app.ts"]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ one: 9, many: [1, 4, 9] });
  });

  it("under tsx, a stack through faasade names files that are in the package (its source maps resolve)", async () => {
    const ran = await inProject(bin("tsx"), ["stack.ts"]);
    expect(ran.code, ran.stderr).toBe(0);
    const { name, stack } = JSON.parse(ran.stdout) as { name: string; stack: string };
    expect(name).toBe("InvalidError");
    const inPackage = [...stack.matchAll(/(\/[^\s():]+):\d+:\d+/g)]
      .map((m) => m[1] as string)
      .filter((file) => file.includes(`${sep}node_modules${sep}faasade${sep}`));
    expect(inPackage.length).toBeGreaterThan(0);
    expect(inPackage.filter((file) => !existsSync(file))).toEqual([]);
  });

  it("faasade deploy, call, spawn and get with the project's bin; destroy leaves no server running", async () => {
    const faasade = (...args: string[]) => inProject(bin("faasade"), args);
    const deployed = await faasade("deploy", "app.ts");
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain("packed-app");
    const server = JSON.parse(readFileSync(join(project.faasadeHome, "server.json"), "utf8")) as { pid: number };
    try {
      expect(serverCommand(server.pid)).toContain(join(project.dir, "node_modules", "faasade"));
      const called = await faasade("call", "packed-app/square", "3", "--json");
      expect(called.code, called.stderr).toBe(0);
      expect(JSON.parse(called.stdout)).toBe(9);
      const spawned = await faasade("spawn", "packed-app/square", "4", "--json");
      expect(spawned.code, spawned.stderr).toBe(0);
      const { functionCallId } = JSON.parse(spawned.stdout) as { functionCallId: string };
      expect(functionCallId).toMatch(/^fc-/);
      const got = await faasade("get", functionCallId, "--json");
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toBe(16);
      const destroyed = await faasade("destroy", "packed-app");
      expect(destroyed.code, destroyed.stderr).toBe(0);
      expect(await gone(server.pid, 15_000)).toBe(true);
      expect(processesOf(project.faasadeHome)).toEqual([]);
    } finally {
      if (alive(server.pid)) process.kill(server.pid, "SIGKILL");
    }
  });

  it('startTestBackend("aws", { module }) runs the app offline: remote and spawn through the installed package', async () => {
    const ran = await inProject(bin("tsx"), ["backend.ts"]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ remote: 16, spawned: 25 });
    expect(ran.stderr).not.toMatch(NOISE);
  });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** A process's command line (this suite runs where /proc is: Linux, as CI). */
const serverCommand = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");

/** Processes still running with this FAASADE_HOME in their environment (the server, its containers). */
function processesOf(faasadeHome: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (environ.includes(`FAASADE_HOME=${faasadeHome}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
