// gcp(): options checked up front, quoting the bad value; defaults from the environment; resource
// names that fit Google's rules and never collide.
import { afterEach, describe, expect, it, vi } from "vitest";
import { gcpError } from "../src/providers/gcp/clients.js";
import { bucketName, functionId, labelValue, queuePath } from "../src/providers/gcp/names.js";
import { resolveGcpOptions } from "../src/providers/gcp/options.js";

afterEach(() => vi.unstubAllEnvs());
const base = { project: "my-project", region: "us-central1" };

describe("gcp options", () => {
  it("takes project and region from the environment, else says how to set them", () => {
    vi.stubEnv("GOOGLE_CLOUD_PROJECT", "");
    vi.stubEnv("GCLOUD_PROJECT", "");
    vi.stubEnv("CLOUDSDK_CORE_PROJECT", "");
    vi.stubEnv("FAASADE_GCP_REGION", "");
    vi.stubEnv("GOOGLE_CLOUD_REGION", "");
    vi.stubEnv("CLOUDSDK_FUNCTIONS_REGION", "");
    expect(() => resolveGcpOptions({})).toThrow(/no Google Cloud project is set: set GOOGLE_CLOUD_PROJECT/);
    vi.stubEnv("GOOGLE_CLOUD_PROJECT", "env-project");
    expect(() => resolveGcpOptions({})).toThrow(/no region is set: set FAASADE_GCP_REGION/);
    vi.stubEnv("FAASADE_GCP_REGION", "europe-west1");
    const resolved = resolveGcpOptions({});
    expect(resolved).toMatchObject({ project: "env-project", region: "europe-west1", runtime: "nodejs22", prefix: "faasade" });
    expect(resolved.retentionMs).toBe(7 * 24 * 3600 * 1000);
  });

  it.each([
    [{ runtime: "nodejs20" }, /runtime "nodejs20" is decommissioned on Cloud Functions; use "nodejs22"/],
    [{ runtime: "python3" }, /runtime must be one of nodejs22, nodejs24, got "python3"/],
    [{ project: "My Project" }, /project must be "my-project" .*got "My Project"/],
    [{ region: "mars" }, /region must be "us-central1", got "mars"/],
    [{ retentionMs: 0 }, /retentionMs must be an integer ≥ 1, got 0/],
    [{ serviceAccount: "me" }, /serviceAccount must be an e-mail .*got "me"/],
    [{ endpoints: { tasks: "nope" } }, /endpoints.tasks must be a URL .*got "nope"/],
    [{ endpoints: { pubsub: "http://127.0.0.1:1" } }, /endpoints has no service "pubsub"/],
    [{ regoin: "us-central1" }, /unknown option "regoin"/],
  ])("refuses %j", (bad, message) => {
    expect(() => resolveGcpOptions({ ...base, ...(bad as object) })).toThrow(message);
  });

  it("accepts nodejs24 and loopback endpoints", () => {
    const r = resolveGcpOptions({ ...base, runtime: "nodejs24", endpoints: { storage: "http://127.0.0.1:4443/" } });
    expect(r.runtime).toBe("nodejs24");
    expect(r.endpoints).toEqual({ storage: "http://127.0.0.1:4443" });
  });
});

describe("gcp names", () => {
  const ref = { prefix: "faasade", project: "my-project", region: "us-central1", app: "my-app", environment: "main" };

  it("function ids fit 4–63 characters of [a-z0-9-], distinct even when faasade's names differ only in case", () => {
    const id = functionId(ref, "square");
    expect(id).toBe("faasade-main-my-app-square");
    const upper = functionId(ref, "Square");
    const underscore = functionId(ref, "my_fn");
    const long = functionId(ref, "f".repeat(63));
    for (const name of [upper, underscore, long]) expect(name).toMatch(/^[a-z][a-z0-9-]{3,62}$/);
    expect(new Set([id, upper, functionId(ref, "square_"), underscore, functionId(ref, "my-fn")]).size).toBe(5);
    expect(queuePath(ref, "square")).toBe("projects/my-project/locations/us-central1/queues/faasade-main-my-app-square");
  });

  it("bucket names differ by project (they are global) and fit 63 characters", () => {
    const a = bucketName(ref);
    const b = bucketName({ ...ref, project: "other-project" });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^faasade-main-my-app-[0-9a-f]{8}$/);
    expect(bucketName({ ...ref, app: "a".repeat(40) }).length).toBeLessThanOrEqual(63);
    expect(bucketName({ ...ref, bucket: "mine" })).toBe("mine");
    expect(labelValue("Code_Hash")).toMatch(/^[a-z0-9_-]{1,63}$/);
  });
});

describe("gcp errors", () => {
  it("maps NOT_FOUND, PERMISSION_DENIED (naming the permission) and passing failures", () => {
    expect(gcpError("GetFunction f", { code: 5, message: "5 NOT_FOUND: no f" }).name).toBe("NotFoundError");
    const denied = gcpError("CreateTask q", {
      code: 7,
      message: "7 PERMISSION_DENIED: The principal lacks IAM permission 'cloudtasks.tasks.create' for the resource",
    });
    expect(denied.name).toBe("ProviderError");
    expect(denied.message).toMatch(/lack the permission cloudtasks\.tasks\.create/);
    expect(gcpError("get object", { code: 503, message: "backend error" }).name).toBe("TransportError");
    expect(gcpError("CreateTask q", { code: 14, message: "14 UNAVAILABLE" }).name).toBe("TransportError");
    expect(gcpError("put", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).name).toBe("TransportError");
    expect(gcpError("CreateQueue q", { code: 3, message: "3 INVALID_ARGUMENT: bad" }).name).toBe("ProviderError");
  });
});
