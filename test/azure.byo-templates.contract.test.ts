// The bring-your-own-infrastructure templates (examples/azure/main.tf, examples/azure/main.bicep)
// against the deployer they stand in for: every app setting the deployer writes (Flex, storage by
// identity) and no other, the queue, poison queue and container naming, the lifecycle rule's
// prefixes, functionAppConfig, the tags, and the roles docs/azure.md lists. No bicep or azurerm
// provider runs here; where a terraform binary is on the PATH, the Terraform file's locals (names,
// settings, functionAppConfig, rule, tags, the client's variables) are evaluated offline and
// compared value by value with what the deployer's own functions give for a sample app.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { App } from "../src/core/app.js";
import { type AppManifest, manifestOf } from "../src/core/manifest.js";
import type { AzureDeployContext } from "../src/providers/azure/deploy/context.js";
import { type AzureSettings, azureSettings } from "../src/providers/azure/deploy/function-options.js";
import { appSettings } from "../src/providers/azure/deploy/settings.js";
import { TAGS, siteFields } from "../src/providers/azure/deploy/site.js";
import { lifecycleRule, ruleName } from "../src/providers/azure/deploy/storage.js";
import { type AppRef, containerName, poisonQueueName, queueName, siteName } from "../src/providers/azure/names.js";
import { resolveAzureOptions } from "../src/providers/azure/options.js";

const tf = readFileSync("examples/azure/main.tf", "utf8");
const bicep = readFileSync("examples/azure/main.bicep", "utf8");
const docs = readFileSync("docs/azure.md", "utf8");

const subscriptionId = "00000000-0000-0000-0000-0000000000b1";
const resourceGroup = "rg-byo";
const account = "mystorage";
const prefix = "byo";
const retentionMs = 3 * 24 * 3600 * 1000 + 1;

/** A sample app whose names need every rule of names.ts: "--" made single, a name hashed, a name cut. */
function sampleApp(): AppManifest {
  const app = new App("shop--orders", { environment: "stage" });
  app.function((x: number) => x, {
    name: "Resize_Image",
    timeoutMs: 60_000,
    memoryMb: 1000,
    minContainers: 2,
    maxContainers: 20,
    maxInputs: 4,
    env: { LOG_LEVEL: "debug" },
    providerOptions: { azure: { environment: { EXTRA: "1" } } },
  });
  app.function((_request: Request) => new Response("ok"), { name: "page", web: {} });
  app.function((_request: Request) => new Response("ok"), {
    name: "guarded",
    web: { auth: true },
    providerOptions: { azure: { instanceMemoryMb: 4096, httpConcurrency: 7, maximumInstanceCount: 300 } },
  });
  app.function((x: number) => x, { name: `l${"o".repeat(50)}ngName`, maxContainers: 2000 });
  return manifestOf(app);
}

const manifest = sampleApp();
const options = resolveAzureOptions({
  subscriptionId,
  resourceGroup,
  prefix,
  retentionMs,
  plan: "flex",
  storage: { accountName: account },
});
// What appSettings and siteFields read of a deploy's context: its options and region.
const ctx = { options, region: "westeurope" } as unknown as AzureDeployContext;
const ref: AppRef = { prefix, subscriptionId, resourceGroup, app: manifest.app, environment: manifest.environment };
const settingsOf = (fn: AppManifest["functions"][number]): AzureSettings => azureSettings(fn, { memoryMb: 2048 });
const deployerSettings = Object.fromEntries(manifest.functions.map((fn) => [fn.name, appSettings(ctx, ref, fn, settingsOf(fn))]));
/** Every setting name the deployer writes for these functions, the functions' own env left out. */
const faasadeSettingNames = [
  ...new Set(
    manifest.functions.flatMap((fn) =>
      Object.keys(deployerSettings[fn.name] ?? {}).filter((k) => !(k in settingsOf(fn).environment)),
    ),
  ),
].sort();

/** The keys of the Bicep file's `var appSettings = union(...)` block. */
function bicepSettingNames(): string[] {
  const start = bicep.indexOf("var appSettings = union(");
  const block = bicep.slice(start, bicep.indexOf("\n\n", start));
  return [...block.matchAll(/^\s+([A-Za-z_][A-Za-z0-9_]*):/gm), ...block.matchAll(/\{ ([A-Za-z_][A-Za-z0-9_]*): /g)]
    .map((m) => m[1] as string)
    .sort();
}

/** The string items of the first list literal after `marker`. */
function listAfter(text: string, marker: string): string[] {
  const at = text.indexOf(marker);
  expect(at, `${marker} is in the template`).toBeGreaterThanOrEqual(0);
  const list = /\[([^\]]*)\]/.exec(text.slice(at + marker.length))?.[1] ?? "";
  return [...list.matchAll(/["']([^"']+)["']/g)].map((m) => m[1] as string);
}

/** The backquoted role names of the bullet of docs/azure.md's "Roles" section that begins with `who`. */
function docRoles(who: string): string[] {
  const section = docs.slice(docs.indexOf("### Roles (least privilege)"), docs.indexOf("### destroy and ls"));
  const bullet = section.split("\n- ").find((b) => b.startsWith(who));
  expect(bullet, `docs/azure.md "Roles" has a bullet for ${who}`).toBeDefined();
  return [...(bullet as string).replace(/\s+/g, " ").matchAll(/`([^`]+)`/g)]
    .map((m) => m[1] as string)
    .filter((r) => /^[A-Z]/.test(r));
}

/** Every key of a JSON value, nested ones included. */
const keysOf = (value: unknown): string[] =>
  value !== null && typeof value === "object"
    ? Object.entries(value).flatMap(([k, v]) => [...(Array.isArray(value) ? [] : [k]), ...keysOf(v)])
    : [];

describe("the BYO templates name what the deployer writes", () => {
  it("every app setting the deployer writes (Flex, by identity) is in both templates, and no other of faasade's", () => {
    expect(faasadeSettingNames).toContain("FAASADE_AZURE_WEB");
    expect(faasadeSettingNames).toContain("FAASADE_AZURE_STORAGE__accountName");
    for (const name of faasadeSettingNames) {
      expect(tf, `main.tf sets ${name}`).toMatch(new RegExp(`\\b${name}\\s*=`));
      expect(bicep, `main.bicep sets ${name}`).toMatch(new RegExp(`\\b${name}:`));
    }
    expect(bicepSettingNames()).toEqual(faasadeSettingNames);
  });

  it("the poison queue, the deployment container and the names Bicep takes follow names.ts", () => {
    const suffix = poisonQueueName("");
    expect(suffix).toBe("-poison");
    expect(tf).toMatch(new RegExp(`name\\s+= "\\$\\{each\\.value\\.queue\\}${suffix}"`));
    expect(bicep).toContain(`name: '\${queueName}${suffix}'`);
    // The deployment container is named as the function app (its plan too).
    expect(tf).toMatch(/resource "azurerm_storage_container" "deployment" \{[^}]*name\s+= each\.value\.site/);
    expect(bicep).toMatch(/resource deploymentContainer [^{]*\{\s*parent: blobService\s*name: siteName/);
    for (const param of ["siteName", "queueName", "containerName", "lifecycleRuleName"])
      expect(bicep).toMatch(new RegExp(`^param ${param} string$`, "m"));
    expect(readFileSync("examples/azure/names.mjs", "utf8")).toMatch(/siteName.*queueName|queueName.*siteName/s);
  });

  it("the lifecycle rule expires the prefixes the deployer's rule does, and keeps the manifest", () => {
    const prefixes = (lifecycleRule("c", retentionMs).definition.filters?.prefixMatch ?? []).map((p) => p.replace(/^c\//, ""));
    expect(prefixes.length).toBeGreaterThan(0);
    expect(listAfter(tf, "for p in ")).toEqual(prefixes);
    expect(listAfter(bicep, "var expiring = ")).toEqual(prefixes);
    expect(prefixes.some((p) => "manifest.json".startsWith(p))).toBe(false);
  });

  it("the function app: the kind, HTTPS only, a system-assigned identity, Flex's functionAppConfig keys, node 22, the tags", () => {
    const site = siteFields(ctx, {
      ref,
      fn: "page",
      site: siteName(ref, "page"),
      settings: settingsOf(manifest.functions[1] as AppManifest["functions"][number]),
      deploymentContainer: "https://x/y",
    });
    expect(site.identity?.type).toBe("SystemAssigned");
    expect(site.functionAppConfig?.runtime).toEqual({ name: "node", version: "22" });
    expect(site.functionAppConfig?.deployment?.storage?.authentication?.type).toBe("SystemAssignedIdentity");
    for (const [text, say] of [
      [tf, (k: string) => new RegExp(`\\b${k}\\s*=`)],
      [bicep, (k: string) => new RegExp(`\\b${k}:`)],
    ] as const) {
      for (const key of keysOf(site.functionAppConfig)) expect(text, key).toMatch(say(key));
      expect(text).toMatch(/kind\s*[:=]\s*["']functionapp,linux["']/);
      expect(text).toMatch(/httpsOnly\s*[:=]\s*true/);
      expect(text).toMatch(/type\s*[:=]\s*["']SystemAssigned["']/);
      expect(text).toMatch(/["']SystemAssignedIdentity["']/);
      expect(text).toMatch(/["']blobContainer["']/);
      expect(text).toMatch(/name\s*[:=]\s*["']node["'], version\s*[:=]\s*["']22["']/);
      expect(text).toContain("FC1");
      for (const tag of Object.values(TAGS)) expect(text, tag).toContain(tag);
    }
    expect(bicep).toMatch(/tier: 'FlexConsumption'/);
  });

  it("the roles: the function app's are docs/azure.md's, and so are the callers'; Bicep's ids are Azure's built-in ones", () => {
    const appRoles = docRoles("A function app");
    expect(appRoles).toEqual(["Storage Blob Data Owner", "Storage Queue Data Contributor"]);
    expect(listAfter(tf, "app_roles    = ")).toEqual(appRoles);
    expect(listAfter(bicep, "var appRoles = ")).toEqual(appRoles);
    const callerRoles = docRoles("A caller");
    const dataRoles = callerRoles.filter((r) => r.startsWith("Storage"));
    expect(listAfter(tf, "caller_roles = ")).toEqual(dataRoles);
    expect(listAfter(bicep, "var callerRoles = ")).toEqual(dataRoles);
    for (const role of callerRoles.filter((r) => !r.startsWith("Storage"))) {
      expect(tf).toContain(`role_definition_name = "${role}"`);
      expect(bicep).toContain(`roleIds['${role}']`);
    }
    // Azure's ids of these built-in roles (the same in every tenant).
    const builtIn: Record<string, string> = {
      "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
      "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
      "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
      "Website Contributor": "de139f84-1756-47ae-9be6-808fbbe84772",
    };
    for (const role of new Set([...appRoles, ...callerRoles])) expect(bicep).toContain(`'${role}': '${builtIn[role]}'`);
  });
});

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
const hasTerraform = terraform.status === 0;
if (!hasTerraform) console.info("azure BYO templates: no terraform on the PATH; main.tf's locals are not evaluated");

/** The top-level `variable` and `locals` blocks of main.tf (braces counted line by line). */
function variablesAndLocals(text: string): string {
  const blocks: string[] = [];
  let current: string[] | undefined;
  let depth = 0;
  for (const line of text.split("\n")) {
    if (current === undefined && !/^(variable "|locals \{)/.test(line)) continue;
    current ??= [];
    current.push(line);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (depth === 0) {
      blocks.push(current.join("\n"));
      current = undefined;
    }
  }
  return blocks.join("\n\n");
}

describe.skipIf(!hasTerraform)("main.tf's locals, evaluated by terraform, equal the deployer's values", () => {
  const dir = mkdtempSync(join(tmpdir(), "faasade-byo-tf-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // biome-ignore lint/suspicious/noExplicitAny: terraform's JSON output
  function evaluate(): Record<string, any> {
    const outputs = `output "all" {
  value = {
    names = { container = local.container, rule = local.rule_name, functions = { for k, f in local.functions : k => { site = f.site, queue = f.queue } } }
    settings = local.app_settings, config = local.function_app_config, rule = local.lifecycle_rule, tags = local.tags, env = local.faasade_env
  }
}`;
    writeFileSync(join(dir, "main.tf"), `${variablesAndLocals(tf)}\n\n${outputs}\n`);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    const vars = {
      subscription_id: subscriptionId,
      resource_group: resourceGroup,
      region: "westeurope",
      storage_account: account,
      prefix,
      retention_ms: String(retentionMs),
      manifest_path: join(dir, "manifest.json"),
      code_hashes: '{ page = "abc123" }',
    };
    const args = Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
    const applied = spawnSync("terraform", ["apply", "-auto-approve", "-input=false", "-no-color", ...args], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    expect(applied.status, applied.stderr).toBe(0);
    const out = spawnSync("terraform", ["output", "-json", "all"], { cwd: dir, env, encoding: "utf8" });
    expect(out.status, out.stderr).toBe(0);
    return JSON.parse(out.stdout);
  }

  // biome-ignore lint/suspicious/noExplicitAny: terraform's JSON output
  let result: Record<string, any> = {};
  beforeAll(() => {
    result = evaluate();
  }, 120_000);
  const fns = manifest.functions;

  it("names: the container, its rule, each function app and queue as names.ts and storage.ts make them", () => {
    expect(result.names.container).toBe(containerName(ref));
    expect(result.names.rule).toBe(ruleName(containerName(ref)));
    for (const fn of fns)
      expect(result.names.functions[fn.name]).toEqual({ site: siteName(ref, fn.name), queue: queueName(ref, fn.name) });
    // The sample's names took every path: "--" made single, a name hashed, one cut to its length.
    expect(containerName(ref)).toBe("byo-stage-shop-orders");
    expect(siteName(ref, "Resize_Image")).toMatch(/-[0-9a-f]{8}-[0-9a-f]{6}$/);
    expect(queueName(ref, fns[3]?.name as string).length).toBeLessThanOrEqual(56);
  });

  it("app settings: exactly appSettings() of each function", () => {
    expect(result.settings).toEqual(deployerSettings);
  });

  it("functionAppConfig: exactly siteFields() of each function, its deployment container in the account", () => {
    for (const fn of fns) {
      const site = siteName(ref, fn.name);
      const plan = {
        ref,
        fn: fn.name,
        site,
        settings: settingsOf(fn),
        deploymentContainer: `https://${account}.blob.core.windows.net/${site}`,
      };
      expect(result.config[fn.name], fn.name).toEqual(siteFields(ctx, plan).functionAppConfig);
    }
  });

  it("the lifecycle rule: exactly lifecycleRule() of the app's container and retention", () => {
    expect(result.rule).toEqual(lifecycleRule(containerName(ref), retentionMs));
  });

  it("tags: app, environment and function, and the code hash where one is given", () => {
    for (const fn of fns)
      expect(result.tags[fn.name]).toEqual({
        [TAGS.app]: manifest.app,
        [TAGS.environment]: manifest.environment,
        [TAGS.fn]: fn.name,
        ...(fn.name === "page" ? { [TAGS.code]: "abc123" } : {}),
      });
  });

  it("the client's variables: azure() resolved from them finds this subscription, group, prefix, account and retention", () => {
    const saved = { ...process.env };
    try {
      // Only these variables: a connection string of the machine's own would otherwise win over the account.
      for (const key of Object.keys(process.env)) if (/^(FAASADE_)?AZURE_/.test(key)) delete process.env[key];
      Object.assign(process.env, result.env);
      const resolved = resolveAzureOptions({});
      expect(resolved).toMatchObject({
        subscriptionId,
        resourceGroup,
        prefix,
        retentionMs,
        plan: "flex",
        storage: { accountName: account },
      });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
