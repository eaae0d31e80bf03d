/**
 * A test double of Azure Resource Manager for what faasade's Azure deploy and client use, on 127.0.0.1
 * over HTTPS (Azure's SDKs refuse a bearer token over plain http; trust `loopbackTls.cert`), for the real
 * `@azure/arm-appservice` and `@azure/arm-storage` clients (endpoint override): App Service plans, sites
 * (function apps) with their app settings, host keys and web config, a storage account's management
 * (lifecycle) policy, and the Flex publish (OneDeploy) endpoint of each site's SCM host. No emulator of ARM
 * exists; paths and api-versions are the SDKs' own (Microsoft.Web 2025-05-01, Microsoft.Storage 2025-08-01).
 * Every request is counted by the SDK operation it serves; `failNext` refuses the next ones with a status.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readBody, sendJson as send } from "../gcp/double-http.js";
import {
  API_VERSIONS,
  type Answer,
  type ArmOperation,
  type ArmSite,
  type Deployment,
  type Json,
  PLAN,
  POLICY,
  SCM,
  SITE,
  SITES,
  fail,
  merged,
  notFound,
  operationOf,
  scmOperation,
  settingsOf,
  statusBody,
  withoutAppSettings,
} from "./arm-wire.js";
import { loopbackTls } from "./loopback-tls.js";

export type { ArmOperation, ArmSite } from "./arm-wire.js";

export interface ArmDoubleOptions {
  /** A site PUT answers 200 Succeeded at once, or 201 InProgress that a poll (GET) finishes. @default "at-once" */
  lro?: "at-once" | "poll";
  /** Called when a site is made or its always-ready instances or settings change (a host stand-in follows). */
  onSite?: (site: ArmSite) => void | Promise<void>;
  /** Polls of a deployment's status before it is complete. @default 1 */
  pollsUntilDeployed?: number;
}

export interface ArmDouble {
  /** `https://127.0.0.1:<port>`: the `arm` endpoint. */
  url: string;
  port: number;
  /** The certificate to trust (`ca`, or a file for NODE_EXTRA_CA_CERTS). */
  ca: string;
  sites: Map<string, ArmSite>;
  /** App Service plans by name (wire shape). */
  plans: Map<string, Json>;
  /** Each storage account's `default` management policy (wire shape), by account name. */
  policies: Map<string, Json>;
  /** Every request as `METHOD path` (no query), in order. */
  requests: string[];
  /** Requests served (or refused) per operation. */
  count(operation: ArmOperation): number;
  /** The next `count` requests of `operation` answer `status` with ARM's error body. */
  failNext(operation: ArmOperation, count: number, status?: number): void;
  /** The next `count` deployments to any site end Failed (a 200 answer whose body says so, as Azure's does). */
  failDeployments(count: number, message?: string): void;
  /** The site named `name` (case-insensitive), or undefined. */
  site(name: string): ArmSite | undefined;
  close(): Promise<void>;
}

/** A token credential for the SDK clients: the double checks a bearer token is sent, not its value. */
export const loopbackCredential = {
  getToken: async () => ({ token: "loopback-test-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export async function startArmDouble(options: ArmDoubleOptions = {}): Promise<ArmDouble> {
  const sites = new Map<string, ArmSite>();
  const plans = new Map<string, Json>();
  const policies = new Map<string, Json>();
  const deployments = new Map<string, Deployment>();
  const requests: string[] = [];
  const counts = new Map<ArmOperation, number>();
  const faults = new Map<ArmOperation, { count: number; status: number }>();
  const failures = { count: 0, message: "the package failed to deploy (a fault of the test)" };
  let base = "";

  const fingerprints = new Map<string, string>();
  /** Tells `onSite` when what a host stand-in follows (always-ready, settings) changed. */
  const changed = async (site: ArmSite) => {
    const props = site.resource.properties as Json;
    const scale = (props.functionAppConfig as Json | undefined)?.scaleAndConcurrency as Json | undefined;
    const elastic = (props.siteConfig as Json | undefined)?.minimumElasticInstanceCount;
    const print = JSON.stringify([scale?.alwaysReady, elastic, site.settings]);
    if (fingerprints.get(site.name) === print) return;
    fingerprints.set(site.name, print);
    await options.onSite?.(site);
  };

  const siteRoutes = async (method: string, m: RegExpExecArray, body: Json | undefined): Promise<[ArmOperation, Answer]> => {
    const [, sub, group, rawName, rest = ""] = m as unknown as string[];
    const name = (rawName as string).toLowerCase();
    const site = sites.get(name);
    const id = `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Web/sites/${rawName}`;
    const missing = (): Answer => notFound(`Microsoft.Web/sites/${rawName}`, group as string);
    if (rest === "") {
      if (method === "PUT") return ["webApps.createOrUpdate", await putSite(id, name, group as string, body ?? {})];
      if (method === "GET") {
        if (site === undefined) return ["webApps.get", missing()];
        const props = site.resource.properties as Json;
        if (props.provisioningState === "InProgress") props.provisioningState = "Succeeded";
        return ["webApps.get", [200, site.resource]];
      }
      if (method === "PATCH") {
        if (site === undefined) return ["webApps.update", missing()];
        // ARM's PATCH merges properties and replaces the tags it is given.
        const tags = body?.tags ?? site.resource.tags;
        site.resource = { ...merged(site.resource, { properties: withoutAppSettings(body?.properties as Json) }), tags };
        await changed(site);
        return ["webApps.update", [200, site.resource]];
      }
      if (method === "DELETE") {
        if (site === undefined) return ["webApps.delete", [204]];
        sites.delete(name);
        fingerprints.delete(name);
        return ["webApps.delete", [200]];
      }
    }
    if (rest === "/config/appsettings" && method === "PUT") {
      if (site === undefined) return ["webApps.updateApplicationSettings", missing()];
      site.settings = { ...((body?.properties as Record<string, string> | undefined) ?? {}) };
      await changed(site);
      return ["webApps.updateApplicationSettings", [200, settingsOf(site)]];
    }
    if (rest === "/config/appsettings/list" && method === "POST")
      return ["webApps.listApplicationSettings", site === undefined ? missing() : [200, settingsOf(site)]];
    if (rest === "/host/default/listkeys" && method === "POST")
      return [
        "webApps.listHostKeys",
        site === undefined
          ? missing()
          : [200, { masterKey: `master-${site.hostKey}`, functionKeys: { default: site.hostKey }, systemKeys: {} }],
      ];
    if (rest === "/config/web") {
      const op = method === "GET" ? "webApps.getConfiguration" : "webApps.updateConfiguration";
      if (site === undefined) return [op, missing()];
      const props = site.resource.properties as Json;
      if (method !== "GET") {
        props.siteConfig = merged((props.siteConfig as Json) ?? {}, withoutAppSettings(body?.properties as Json) ?? {});
        await changed(site);
      }
      return [op, [200, { id: `${id}/config/web`, name: "web", properties: props.siteConfig ?? {} }]];
    }
    return ["webApps.get", fail(404, "NoSuchOperation", `no such operation: ${method} ${id}${rest}`)];
  };

  const putSite = async (id: string, name: string, group: string, body: Json): Promise<Answer> => {
    const found = sites.get(name);
    const props = (body.properties as Json | undefined) ?? {};
    const serverFarmId = String(props.serverFarmId ?? "");
    const planName = serverFarmId.split("/").pop()?.toLowerCase() ?? "";
    if (!plans.has(planName)) return fail(400, "BadRequest", `the plan ${JSON.stringify(serverFarmId)} does not exist`);
    const site: ArmSite = found ?? {
      name,
      resourceGroup: group,
      resource: {},
      settings: {},
      hostKey: randomBytes(24).toString("base64url"),
      packages: [],
    };
    // Apps created since 2024-06 get a unique host name: clients must read it, never make it.
    const host = `${name}-${createHash("sha256").update(site.hostKey).digest("hex").slice(0, 16)}.${body.location ?? "region"}-01.azurewebsites.net`;
    const appSettings = (props.siteConfig as Json | undefined)?.appSettings as { name: string; value: string }[] | undefined;
    if (appSettings !== undefined) site.settings = Object.fromEntries(appSettings.map((s) => [s.name, s.value]));
    const identity = body.identity as Json | undefined;
    site.resource = {
      id,
      name: id.split("/").pop(),
      type: "Microsoft.Web/sites",
      kind: body.kind,
      location: body.location,
      tags: body.tags ?? {},
      ...(identity === undefined
        ? {}
        : { identity: { ...identity, principalId: randomUUID(), tenantId: "00000000-0000-0000-0000-000000000000" } }),
      properties: {
        ...withoutAppSettings(props),
        state: "Running",
        defaultHostName: host,
        enabledHostNames: [host, scmHost(name)],
        hostNameSslStates: [
          { name: host, hostType: "Standard", sslState: "Disabled" },
          { name: scmHost(name), hostType: "Repository", sslState: "Disabled" },
        ],
        sku: (plans.get(planName)?.sku as Json | undefined)?.tier,
        provisioningState: options.lro === "poll" ? "InProgress" : "Succeeded",
      },
    };
    sites.set(name, site);
    await changed(site);
    return options.lro === "poll" ? [201, site.resource] : [200, site.resource];
  };

  /** The SCM host a site reports: a path on this server, so that `https://<scm>/api/publish` reaches it. */
  const scmHost = (site: string) => `${base.slice("https://".length)}/scm/${site}`;

  const planRoutes = (method: string, m: RegExpExecArray, body: Json | undefined): [ArmOperation, Answer] => {
    const [, sub, group, rawName] = m as unknown as string[];
    const name = (rawName as string).toLowerCase();
    const found = plans.get(name);
    if (method === "PUT") {
      const id = `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Web/serverfarms/${rawName}`;
      const properties = { ...(body?.properties as Json), provisioningState: "Succeeded", status: "Ready" };
      const plan: Json = { ...body, id, name: rawName, type: "Microsoft.Web/serverfarms", properties };
      plans.set(name, plan);
      return ["appServicePlans.createOrUpdate", [200, plan]];
    }
    if (method === "GET")
      return ["appServicePlans.get", found ? [200, found] : notFound(`Microsoft.Web/serverfarms/${rawName}`, group as string)];
    if (
      [...sites.values()].some((s) =>
        String((s.resource.properties as Json).serverFarmId)
          .toLowerCase()
          .endsWith(`/${name}`),
      )
    )
      return ["appServicePlans.delete", fail(409, "Conflict", `the plan ${rawName} still hosts a site`)];
    plans.delete(name);
    return ["appServicePlans.delete", [found ? 200 : 204]];
  };

  const policyRoutes = (method: string, m: RegExpExecArray, body: Json | undefined): [ArmOperation, Answer] => {
    const [, sub, group, account, policyName] = m as unknown as string[];
    const id = `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${account}/managementPolicies/${policyName}`;
    const key = (account as string).toLowerCase();
    if (policyName !== "default") return ["managementPolicies.get", fail(400, "InvalidInput", "the policy name must be default")];
    if (method === "PUT") {
      const rules = ((body?.properties as Json | undefined)?.policy as Json | undefined)?.rules;
      if (!Array.isArray(rules) || rules.length === 0)
        return ["managementPolicies.createOrUpdate", fail(400, "InvalidInput", "a management policy needs at least one rule")];
      const policy = { id, name: "DefaultManagementPolicy", type: "Microsoft.Storage/storageAccounts/managementPolicies" };
      const stored = { ...policy, properties: { ...(body?.properties as Json), lastModifiedTime: new Date().toISOString() } };
      policies.set(key, stored);
      return ["managementPolicies.createOrUpdate", [200, stored]];
    }
    if (method === "GET") {
      const found = policies.get(key);
      return [
        "managementPolicies.get",
        found ? [200, found] : notFound(`managementPolicies/default of ${account}`, group as string),
      ];
    }
    policies.delete(key);
    return ["managementPolicies.delete", [200]];
  };

  const scmRoutes = (method: string, m: RegExpExecArray, raw: Buffer, req: IncomingMessage): [ArmOperation, Answer] => {
    const site = sites.get((m[1] as string).toLowerCase());
    const op = scmOperation(m[2] as string);
    if (!/^Bearer \S+/.test(String(req.headers.authorization))) return [op, [401, { Message: "no bearer token" }]];
    if (site === undefined) return [op, [404, { Message: `no site ${m[1]}` }]];
    if (op !== "scm.deploymentStatus") {
      if (method !== "POST") return [op, [405, { Message: "publish is a POST" }]];
      if (!/^application\/(zip|octet-stream)/.test(String(req.headers["content-type"])))
        return [op, [415, { Message: "the package must be sent as application/zip" }]];
      if (raw.subarray(0, 2).toString("latin1") !== "PK") return [op, [400, { Message: "the package is not a zip" }]];
      const deployment: Deployment = { id: randomUUID(), site: site.name, polls: 0 };
      if (failures.count > 0) {
        failures.count--;
        deployment.failure = failures.message;
      } else site.packages.push(raw);
      deployments.set(deployment.id, deployment);
      const location = `${base}/scm/${site.name}/api/deployments/${deployment.id}`;
      return [op, [202, statusBody(deployment, false), { location }]];
    }
    const deployment = deployments.get(m[3] as string);
    if (deployment === undefined || deployment.site !== site.name) return [op, [404, { Message: `no deployment ${m[3]}` }]];
    deployment.polls++;
    // Kudu answers 200 while it runs and after a failure alike: the status is in the body.
    return [op, [200, statusBody(deployment, deployment.polls >= (options.pollsUntilDeployed ?? 1))]];
  };

  const route = async (req: IncomingMessage, url: URL, raw: Buffer): Promise<[ArmOperation | undefined, Answer]> => {
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname);
    const scm = SCM.exec(path);
    if (scm !== null) return scmRoutes(method, scm, raw, req);
    if (!/^Bearer \S+/.test(String(req.headers.authorization)))
      return [undefined, fail(401, "AuthenticationFailed", "the request has no bearer token")];
    const body = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Json) : undefined;
    const service = /Microsoft\.Storage/i.test(path) ? "storage" : "web";
    const version = url.searchParams.get("api-version");
    if (version !== API_VERSIONS[service])
      return [undefined, fail(400, "InvalidApiVersionParameter", `the api-version ${JSON.stringify(version)} is not served`)];
    let m = SITE.exec(path);
    if (m !== null) return siteRoutes(method, m, body);
    m = SITES.exec(path);
    if (m !== null && method === "GET") {
      const group = (m[2] as string).toLowerCase();
      const value = [...sites.values()].filter((s) => s.resourceGroup.toLowerCase() === group).map((s) => s.resource);
      return ["webApps.listByResourceGroup", [200, { value }]];
    }
    m = PLAN.exec(path);
    if (m !== null) return planRoutes(method, m, body);
    m = POLICY.exec(path);
    if (m !== null) return policyRoutes(method, m, body);
    return [undefined, fail(404, "NoSuchOperation", `no such operation: ${method} ${path}`)];
  };

  /** A refusal `failNext` set for this operation, if any is left. */
  const fault = (op: ArmOperation | undefined): Answer | undefined => {
    const f = op === undefined ? undefined : faults.get(op);
    if (f === undefined || f.count <= 0) return undefined;
    f.count--;
    const code = f.status === 429 ? "TooManyRequests" : f.status >= 500 ? "InternalServerError" : "BadRequest";
    return fail(f.status, code, `${op} was refused (a fault of the test)`);
  };

  const server = createServer({ cert: loopbackTls.cert, key: loopbackTls.key }, (req, res) => {
    void handle(req, res).catch((err: Error) => send(res, 500, { error: { code: "InternalServerError", message: err.message } }));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base);
    const raw = await readBody(req);
    requests.push(`${req.method} ${url.pathname}`);
    // Classify first (a refusal is counted against the operation it refused), then apply the fault.
    const probe = operationOf(req.method ?? "GET", decodeURIComponent(url.pathname));
    const refusal = fault(probe);
    const [op, [status, body, headers]] = refusal === undefined ? await route(req, url, raw) : [probe, refusal];
    if (op !== undefined) counts.set(op, (counts.get(op) ?? 0) + 1);
    if (body === undefined) res.writeHead(status, headers).end();
    else {
      res.setHeader("x-ms-request-id", randomUUID());
      for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
      send(res, status, body);
    }
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  base = `https://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    ca: loopbackTls.cert,
    sites,
    plans,
    policies,
    requests,
    count: (op) => counts.get(op) ?? 0,
    failNext(op, count, status = 503) {
      faults.set(op, { count, status });
    },
    failDeployments(count, message) {
      failures.count = count;
      if (message !== undefined) failures.message = message;
    },
    site: (name) => sites.get(name.toLowerCase()),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
