/**
 * Checks a request's AWS Signature Version 4 as a function URL with AuthType AWS_IAM does (a test
 * double of IAM auth): the Authorization header's signature must be the one the backend's
 * credentials make for this method, path, query, signed headers and body, for the `lambda`
 * service in the backend's region, dated within 15 minutes. IAM policies are not evaluated:
 * offline, whoever holds the backend's credentials may call.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export interface SigningKey {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** AWS refuses signatures dated further than this from its clock. */
const SKEW_MS = 15 * 60 * 1000;
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** Why the request's signature is refused; undefined when it is valid. */
export function sigV4Refusal(req: IncomingMessage, body: Buffer, key: SigningKey): string | undefined {
  const match = AUTH.exec(req.headers.authorization ?? "");
  if (match === null) return "no AWS4-HMAC-SHA256 Authorization header";
  const [, accessKeyId, day, region, service, signedList, signature] = match as unknown as string[];
  if (accessKeyId !== key.accessKeyId) return `unknown access key ${accessKeyId}`;
  if (region !== key.region || service !== "lambda") return `credential scope ${region}/${service}, not ${key.region}/lambda`;
  const amzDate = header(req, "x-amz-date");
  if (amzDate === undefined || !amzDate.startsWith(day as string)) return "no x-amz-date of the credential's day";
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (!(Math.abs(Date.now() - signedAt) <= SKEW_MS)) return `signed at ${amzDate}, more than 15 minutes away`;
  const signed = (signedList as string).split(";");
  if (!signed.includes("host")) return "the host header is not signed";
  const claimed = header(req, "x-amz-content-sha256");
  if (claimed !== undefined && claimed !== sha256(body)) return "x-amz-content-sha256 is not the body's hash";
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest(req, body, signed))].join("\n");
  const kDate = hmac(`AWS4${key.secretAccessKey}`, day as string);
  const kSigning = hmac(hmac(hmac(kDate, region as string), service as string), "aws4_request");
  const expected = hmac(kSigning, stringToSign).toString("hex");
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature as string))) return "the signature does not match";
  return undefined;
}

/** The request as SigV4 canonicalizes it for services other than S3 (the path's segments encoded once more). */
function canonicalRequest(req: IncomingMessage, body: Buffer, signed: string[]): string {
  const target = new URL(req.url ?? "/", "http://signed.invalid");
  const segments = target.pathname.split("/").filter((s) => s !== "" && s !== ".");
  const path = `/${segments.join("/")}${segments.length > 0 && target.pathname.endsWith("/") ? "/" : ""}`;
  const query = [...target.searchParams.entries()]
    .filter(([k]) => k.toLowerCase() !== "x-amz-signature")
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headers = signed.map(
    (name) =>
      `${name}:${(header(req, name) ?? "")
        .replace(/[\r\n]/g, " ")
        .replace(/[ \t]+/g, " ")
        .trim()}\n`,
  );
  // The body's own hash: a claimed x-amz-content-sha256 was checked against it already.
  const canonicalPath = uriEscape(path).replace(/%2F/g, "/");
  return [req.method ?? "GET", canonicalPath, query, headers.join(""), signed.join(";"), sha256(body)].join("\n");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

const uriEscape = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (k: string | Buffer, data: string) => createHmac("sha256", k).update(data).digest();
