/**
 * A function app's code, sent to its SCM (Kudu) host with an Entra token for ARM: Flex takes it by
 * OneDeploy (`POST https://<scm>/api/publish`, which keeps the package in the app's deployment container;
 * Flex has no zip deploy), Premium by zip deploy (`POST https://<scm>/api/zipdeploy?isAsync=true`). Both
 * answer where the deployment's status is, and Kudu answers 200 while a deployment runs and after it
 * failed alike: the outcome is read from the body (`status` 4 Success, 3 Failed), never the HTTP code.
 */
import { request } from "node:https";
import type { Site } from "@azure/arm-appservice";
import { ProviderError } from "../../../core/errors.js";
import { TransportError } from "../../../core/transport.js";
import { azureCall } from "../clients.js";
import { type AzureDeployContext, sleep } from "./context.js";
import { isFlex } from "./site.js";

/** Kudu's deployment status codes. */
const FAILED = 3;
const SUCCESS = 4;
/** How long a deployment (with its remote build) may take. */
const DEPLOY_WAIT_MS = 20 * 60_000;
const ARM_SCOPE = "https://management.azure.com/.default";
/** Tries of one SCM request that meets passing refusals. */
const TRIES = 4;

interface DeploymentStatus {
  id?: string;
  status?: number;
  status_text?: string;
  complete?: boolean;
}

/** The SCM host a site reports (its "Repository" host name). */
export function scmHostOf(site: Site): string {
  const scm = site.hostNameSslStates?.find((h) => h.hostType === "Repository")?.name;
  if (!scm) throw new ProviderError(`azure function app ${String(site.name)} reports no SCM host name to deploy to`);
  return scm;
}

/** Publishes `zip` to the site and waits for the deployment to end; a failed one is a ProviderError naming it. */
export async function publish(ctx: AzureDeployContext, site: Site, zip: Uint8Array, ca: string | undefined): Promise<void> {
  const name = String(site.name);
  const scm = scmHostOf(site);
  const path = isFlex(ctx) ? "/api/publish?RemoteBuild=true&Deployer=faasade" : "/api/zipdeploy?isAsync=true&Deployer=faasade";
  ctx.log(`publishing the code of ${name}`);
  const token = await bearer(ctx);
  const started = await riding(ctx, () =>
    azureCall(`deploy the code of ${name}`, () => send(`https://${scm}${path}`, { token, ca, body: zip })),
  );
  const location = started.headers.location;
  let status = parse(started.body);
  const deadline = Date.now() + DEPLOY_WAIT_MS;
  while (!ended(status)) {
    if (location === undefined)
      throw new ProviderError(`azure deployment to ${name} answered ${started.status} with no status and nowhere to read it`);
    if (Date.now() > deadline)
      throw new ProviderError(
        `azure deployment ${status.id ?? location} of ${name} did not end within ${DEPLOY_WAIT_MS / 60_000} minutes`,
      );
    await sleep(ctx.pollMs);
    const polled = await riding(ctx, () =>
      azureCall(`read the deployment status of ${name}`, () => send(location, { token, ca })),
    );
    status = parse(polled.body);
  }
  if (status.status !== SUCCESS)
    throw new ProviderError(
      `azure deployment ${status.id ?? "(no id)"} of function app ${name} failed (status ${status.status}): ${status.status_text || "no reason given"}`,
    );
}

/** A request tried again after a passing refusal (429, 5xx, a broken connection), a few times, `pollMs` apart and more. */
async function riding<T>(ctx: AzureDeployContext, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TransportError) || tries >= TRIES) throw err;
      await sleep(ctx.pollMs * 2 ** tries);
    }
  }
}

const ended = (s: DeploymentStatus) =>
  s.status === SUCCESS || s.status === FAILED || (s.complete === true && s.status !== undefined);

async function bearer(ctx: AzureDeployContext): Promise<string> {
  const credential = await ctx.sdk.credential();
  const token = await azureCall("get a token for the SCM host", () => credential.getToken(ARM_SCOPE));
  if (!token?.token) throw new ProviderError("azure: the credential gave no token for the SCM host");
  return token.token;
}

function parse(body: string): DeploymentStatus {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === "object" ? (parsed as DeploymentStatus) : {};
  } catch {
    return {};
  }
}

interface Answer {
  status: number;
  headers: { location?: string | undefined };
  body: string;
}

/**
 * One HTTPS request (a POST of the zip, or a GET of the status); a refusal throws with `statusCode`, as
 * the SDKs' errors do, so that azureError maps it (5xx and 429 ride through, the rest a ProviderError).
 */
function send(url: string, { token, ca, body }: { token: string; ca: string | undefined; body?: Uint8Array }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) Object.assign(headers, { "content-type": "application/zip", "content-length": String(body.length) });
    const req = request(url, { method: body === undefined ? "GET" : "POST", headers, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status >= 300)
          return reject(
            Object.assign(new Error(`the SCM host answered ${status}: ${text.slice(0, 300)}`), { statusCode: status }),
          );
        resolve({ status, headers: { location: res.headers.location }, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}
