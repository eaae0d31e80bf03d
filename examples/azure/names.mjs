// Prints the names faasade gives an app's Azure resources (src/providers/azure/names.ts), as the
// parameters examples/azure/main.bicep takes, computed by faasade's own code: Bicep has no sha256.
//
//   node examples/azure/names.mjs manifest.json <subscription> <group> [prefix]
//
// Run where faasade is installed (those paths are faasade's own, not exports: they may move).
import { readFileSync } from "node:fs";

const [manifestPath, subscriptionId, resourceGroup, prefix = "faasade"] = process.argv.slice(2);
if (!manifestPath || !subscriptionId || !resourceGroup) {
  console.error("usage: node names.mjs manifest.json <subscription> <group> [prefix]");
  process.exit(2);
}
const dist = new URL("./dist/src/providers/azure/", import.meta.resolve("faasade/package.json"));
const { containerName, queueName, siteName } = await import(new URL("names.js", dist).href);
const { ruleName } = await import(new URL("deploy/storage.js", dist).href);

const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const ref = { prefix, subscriptionId, resourceGroup, app: manifest.app, environment: manifest.environment };
const container = containerName(ref);
const functions = Object.fromEntries(
  manifest.functions.map((fn) => [fn.name, { siteName: siteName(ref, fn.name), queueName: queueName(ref, fn.name) }]),
);
console.log(JSON.stringify({ containerName: container, lifecycleRuleName: ruleName(container), functions }, null, 2));
