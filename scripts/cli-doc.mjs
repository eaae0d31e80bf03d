#!/usr/bin/env node
// Writes the `--help` of the CLI and of each of its commands into docs/cli.md, between the
// markers of its reference section, so that the page and the command cannot disagree
// (test/cli.help.test.ts fails when they do). Run after `npm run build`: node scripts/cli-doc.mjs
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const CLI = `${root}dist/src/cli/main.js`;
const DOC = `${root}docs/cli.md`;
const BEGIN = "<!-- help:begin (written by scripts/cli-doc.mjs) -->";
const END = "<!-- help:end -->";

const help = (...args) => execFileSync(process.execPath, [CLI, ...args, "--help"], { encoding: "utf8" }).trimEnd();

/** The commands `faasade --help` lists, in its order. */
export function commandNames(top) {
  const section = top.split("\nCommands:\n")[1]?.split("\n\n")[0] ?? "";
  return section
    .split("\n")
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name) => name !== undefined && name !== "help");
}

export function reference() {
  const top = help();
  const blocks = [`### faasade --help\n\n\`\`\`text\n${top}\n\`\`\``];
  for (const name of commandNames(top)) blocks.push(`### faasade ${name} --help\n\n\`\`\`text\n${help(name)}\n\`\`\``);
  return blocks.join("\n\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = readFileSync(DOC, "utf8");
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC} has no ${BEGIN} ... ${END} section`);
  writeFileSync(DOC, `${doc.slice(0, start + BEGIN.length)}\n\n${reference()}\n\n${doc.slice(end)}`);
  console.log(`wrote the --help of faasade and its commands into ${DOC}`);
}
