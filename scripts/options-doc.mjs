#!/usr/bin/env node
/**
 * docs/options.md, generated from the sources so that it cannot drift: each option's type,
 * description and default come from the JSDoc of its interface, its bounds from what the checks
 * use (OPTION_BOUNDS in src/core/options.ts, the `check(...)` calls of src/core/retries.ts).
 * A JSDoc `@default` or `@bounds` that disagrees with the checks is an error naming the option.
 *
 *   node scripts/options-doc.mjs --write    rewrite docs/options.md
 *   node scripts/options-doc.mjs --check    exit 1 when docs/options.md is not what it would write
 *   node scripts/options-doc.mjs --json     the options as data (test/options-doc.test.ts uses it)
 * `--root <dir>` reads the sources under another checkout, `--doc <file>` compares another file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const SECTIONS = [
  { file: "src/core/options.ts", iface: "FunctionOptions", title: "`app.function(fn, options)`: FunctionOptions" },
  { file: "src/core/options.ts", iface: "WebOptions", title: "`web`: WebOptions" },
  { file: "src/core/retries.ts", iface: "RetriesOptions", title: "`retries`: `new Retries(options)`" },
  { file: "src/core/app.ts", iface: "AppOptions", title: "`new App(name, options)`: AppOptions" },
];

class DriftError extends Error {}

const parse = (root, file) => ts.createSourceFile(file, readFileSync(join(root, file), "utf8"), ts.ScriptTarget.Latest, true);

function find(node, test) {
  if (test(node)) return node;
  return ts.forEachChild(node, (child) => find(child, test));
}

function findAll(node, test, out = []) {
  if (test(node)) out.push(node);
  // forEachChild stops at the first callback that returns a value: return none.
  ts.forEachChild(node, (child) => {
    findAll(child, test, out);
  });
  return out;
}

/** The value of a literal initializer: numbers, strings, booleans and objects of them. */
function literal(node, where) {
  if (ts.isAsExpression(node) || ts.isParenthesizedExpression(node)) return literal(node.expression, where);
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isStringLiteral(node)) return node.text;
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (ts.isObjectLiteralExpression(node)) {
    return Object.fromEntries(node.properties.map((p) => [p.name.getText(), literal(p.initializer, where)]));
  }
  throw new DriftError(`${where}: expected a literal, found ${node.getText()}`);
}

function constant(sf, name) {
  const decl = find(sf, (n) => ts.isVariableDeclaration(n) && n.name.getText() === name);
  if (decl?.initializer === undefined) throw new DriftError(`${sf.fileName}: no constant ${name}`);
  return literal(decl.initializer, `${sf.fileName} ${name}`);
}

/** What the checks enforce and default, by interface and option. */
function enforced(root) {
  const options = parse(root, "src/core/options.ts");
  const retries = parse(root, "src/core/retries.ts");
  const bounds = {};
  for (const [name, b] of Object.entries(constant(options, "OPTION_BOUNDS"))) bounds[name] = { ...b, integer: true };
  const retryBounds = {};
  // check("maxRetries", maxRetries, 0, 100, true): name, value, min, max, integer
  for (const call of findAll(retries, (n) => ts.isCallExpression(n) && n.expression.getText() === "check")) {
    const [name, , min, max, integer] = call.arguments;
    retryBounds[literal(name, "check")] = {
      min: literal(min, "check"),
      max: literal(max, "check"),
      integer: literal(integer, "check"),
    };
  }
  // The constructor's `const { backoffCoefficient = 2, ... } = options`.
  const retryDefaults = {};
  const ctor = find(retries, (n) => ts.isConstructorDeclaration(n));
  for (const el of findAll(ctor, (n) => ts.isBindingElement(n) && n.initializer !== undefined)) {
    retryDefaults[el.name.getText()] = literal(el.initializer, "Retries defaults");
  }
  return {
    FunctionOptions: {
      bounds: { ...bounds, retries: { ...retryBounds.maxRetries, name: "maxRetries" } },
      defaults: constant(options, "OPTION_DEFAULTS"),
    },
    WebOptions: { bounds: {}, defaults: constant(options, "WEB_DEFAULTS") },
    RetriesOptions: { bounds: retryBounds, defaults: retryDefaults },
    AppOptions: { bounds: {}, defaults: {} },
  };
}

const spaced = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
const boundsText = (name, b) => `${b.integer ? "integer" : "number"}, ${spaced(b.min)} ≤ ${b.name ?? name} ≤ ${spaced(b.max)}`;
const jsdocText = (comment) => (ts.getTextOfJSDocComment(comment) ?? "").replace(/\s+/g, " ").trim();

/** The value a `@default` starts with (`300_000`, `"GET"`, `false`), or undefined for prose. */
function defaultValue(text) {
  const head = /^("[^"]*"|true|false|-?[\d_]+(?:\.\d+)?)(?=$|[\s:;,])/.exec(text)?.[1];
  if (head === undefined) return undefined;
  return head.startsWith('"')
    ? JSON.parse(head)
    : head === "true"
      ? true
      : head === "false"
        ? false
        : Number(head.replaceAll("_", ""));
}

/** The rows of one interface, checked against what its checks enforce. */
function section(root, { file, iface, title }, checks) {
  const sf = parse(root, file);
  const decl = find(sf, (n) => ts.isInterfaceDeclaration(n) && n.name.text === iface);
  if (decl === undefined) throw new DriftError(`${file}: no interface ${iface}`);
  const where = (name) => `${file}: ${iface}.${name}`;
  const docOf = (node) => ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).at(-1);
  const intro = jsdocText(docOf(decl)?.comment);
  if (intro === "") throw new DriftError(`${file}: interface ${iface} has no JSDoc`);
  const rows = decl.members.filter(ts.isPropertySignature).map((member) => {
    const name = member.name.getText(sf);
    const doc = docOf(member);
    const description = jsdocText(doc?.comment);
    const tag = (t) => doc?.tags?.find((x) => x.tagName.text === t);
    const defaultTag = tag("default");
    const boundsTag = tag("bounds");
    const optional = member.questionToken !== undefined;
    if (description === "") throw new DriftError(`${where(name)} has no JSDoc description`);
    if (optional && defaultTag === undefined) throw new DriftError(`${where(name)} has no @default`);
    const defaultDoc = defaultTag === undefined ? "required" : jsdocText(defaultTag.comment);
    const enforcedDefault = checks.defaults[name];
    if (enforcedDefault !== undefined && defaultValue(defaultDoc) !== enforcedDefault) {
      throw new DriftError(
        `${where(name)}: JSDoc says @default ${defaultDoc}; the checks use ${JSON.stringify(enforcedDefault)}`,
      );
    }
    const bounds = checks.bounds[name];
    const boundsDoc = boundsTag === undefined ? undefined : jsdocText(boundsTag.comment);
    if (bounds === undefined && boundsDoc !== undefined) {
      throw new DriftError(`${where(name)}: JSDoc says @bounds ${boundsDoc}; the checks enforce none`);
    }
    if (bounds !== undefined && !boundsDoc?.startsWith(boundsText(name, bounds))) {
      throw new DriftError(
        `${where(name)}: JSDoc says @bounds ${boundsDoc ?? "(none)"}; the checks enforce ${boundsText(name, bounds)}`,
      );
    }
    return {
      name,
      type: member.type.getText(sf).replace(/\s+/g, " "),
      default: defaultDoc,
      defaultValue: enforcedDefault ?? defaultValue(defaultDoc),
      bounds: bounds === undefined ? undefined : { ...bounds, text: boundsDoc },
      description,
    };
  });
  return { title, iface, intro, rows };
}

export function collect(root) {
  const checks = enforced(root);
  return SECTIONS.map((s) => section(root, s, checks[s.iface]));
}

const cell = (text) => text.replaceAll("|", "\\|");
/** A default as the reader wants it: `300 000`, `"GET"` as code, prose as written. */
function shownDefault(text) {
  const m = /^("[^"]*"|true|false|\{\}|-?[\d_]+)(.*)$/.exec(text);
  if (m === null) return text;
  const [, head, rest] = m;
  return (/^-?[\d_]+$/.test(head) ? spaced(head.replaceAll("_", "")) : `\`${head}\``) + rest;
}

export function render(sections) {
  const lines = [
    "# Options reference",
    "",
    "<!-- Generated by `node scripts/options-doc.mjs --write` from the JSDoc of src/core/options.ts,",
    "     src/core/retries.ts and src/core/app.ts and the bounds their checks use. Edit the JSDoc, not",
    "     this file: test/options-doc.test.ts fails when the two differ. -->",
    "",
    "Every option of a function, of its web endpoint, of its retry policy and of an app: its type,",
    "its default and the bounds the checks enforce. Durations are milliseconds.",
  ];
  for (const { title, intro, rows } of sections) {
    lines.push("", `## ${title}`, "", intro, "", "| option | type | default | bounds | what it does |", "|---|---|---|---|---|");
    for (const row of rows) {
      const bounds = row.bounds === undefined ? "" : row.bounds.text;
      lines.push(
        `| \`${row.name}\` | \`${cell(row.type)}\` | ${cell(shownDefault(row.default))} | ${cell(bounds)} | ${cell(row.description)} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function main(argv) {
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const repo = resolve(fileURLToPath(import.meta.url), "../..");
  const root = resolve(arg("--root") ?? repo);
  const doc = resolve(arg("--doc") ?? join(repo, "docs/options.md"));
  let sections;
  try {
    sections = collect(root);
  } catch (err) {
    if (!(err instanceof DriftError)) throw err;
    console.error(`options-doc: ${err.message}`);
    return 1;
  }
  if (argv.includes("--json")) {
    console.log(JSON.stringify(sections, null, 2));
    return 0;
  }
  const text = render(sections);
  if (argv.includes("--write")) {
    writeFileSync(doc, text);
    return 0;
  }
  if (argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(doc, "utf8");
    } catch {
      // a missing file differs like any other
    }
    if (current === text) return 0;
    const was = current.split("\n");
    const line = text.split("\n").findIndex((l, i) => l !== was[i]);
    console.error(`options-doc: ${doc} differs from the sources from line ${line + 1}; run node scripts/options-doc.mjs --write`);
    return 1;
  }
  console.error("usage: node scripts/options-doc.mjs --write | --check | --json [--root <dir>] [--doc <file>]");
  return 2;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
