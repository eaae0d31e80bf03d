// Contract of the Cloud Functions v2 admin API test double: the real @google-cloud/functions
// client (REST mode) creates, polls, reads, lists, patches with an update mask and deletes
// functions through it, uploads a zip to the URL GenerateUploadUrl gives, and sets IAM policies.
import { v2 } from "@google-cloud/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gaxEndpoint } from "../src/providers/gcp/clients.js";
import { type FunctionsDouble, startFunctionsDouble } from "../src/testing/gcp/functions-double.js";
import { loopbackAuth } from "../src/testing/gcp/loopback-auth.js";

process.env.METADATA_SERVER_DETECTION = "none";
let double: FunctionsDouble;
let client: v2.FunctionServiceClient;
const deployed: { name: string; zipBytes: number | undefined }[] = [];
const parent = "projects/my-project/locations/us-central1";

beforeAll(async () => {
  double = await startFunctionsDouble({
    pollsUntilDone: 2,
    onDeploy: (fn, zip) => {
      deployed.push({ name: fn.name, zipBytes: zip?.length });
      return `http://127.0.0.1:9/${fn.name.split("/").at(-1)}`;
    },
  });
  client = new v2.FunctionServiceClient({
    projectId: "my-project",
    authClient: loopbackAuth as never,
    ...gaxEndpoint(double.url),
  });
});
afterAll(async () => {
  await client?.close();
  await double?.close();
});

const create = async (id: string, extra: object = {}) => {
  const [op] = await client.createFunction({
    parent,
    functionId: id,
    function: {
      buildConfig: { runtime: "nodejs22", entryPoint: "faasade" },
      serviceConfig: { minInstanceCount: 0, maxInstanceCount: 5, maxInstanceRequestConcurrency: 4 },
      labels: { app: "my-app", function: id },
      ...extra,
    },
  });
  const [fn] = await op.promise();
  return fn;
};

describe("the Cloud Functions admin API test double, with the real client (contract)", () => {
  it("creates a function as a long-running operation the client polls to done", async () => {
    const before = double.requests.length;
    const fn = await create("fn-one");
    expect(fn.name).toBe(`${parent}/functions/fn-one`);
    expect(String(fn.state)).toMatch(/ACTIVE|1/);
    expect(fn.url).toBe("http://127.0.0.1:9/fn-one");
    const polls = double.requests.slice(before).filter((r) => r.includes("/operations/"));
    expect(polls.length).toBeGreaterThanOrEqual(2); // pollsUntilDone: 2
    const [got] = await client.getFunction({ name: fn.name as string });
    expect(got.serviceConfig?.maxInstanceRequestConcurrency).toBe(4);
    expect(got.labels).toEqual({ app: "my-app", function: "fn-one" });
  });

  it("a missing function is NOT_FOUND (code 5); a second create of the same id is ALREADY_EXISTS (code 6)", async () => {
    await expect(client.getFunction({ name: `${parent}/functions/nope` })).rejects.toMatchObject({ code: 5 });
    await create("fn-dup");
    await expect(create("fn-dup")).rejects.toMatchObject({ code: 6 });
    await expect(create("Bad_Id")).rejects.toMatchObject({ code: 3 });
  });

  it("patches only what the update mask names", async () => {
    const fn = await create("fn-mask");
    const [op] = await client.updateFunction({
      function: { name: fn.name as string, serviceConfig: { minInstanceCount: 2, maxInstanceCount: 99 } },
      updateMask: { paths: ["service_config.min_instance_count"] },
    });
    await op.promise();
    const [got] = await client.getFunction({ name: fn.name as string });
    expect(got.serviceConfig?.minInstanceCount).toBe(2);
    expect(got.serviceConfig?.maxInstanceCount).toBe(5);
  });

  it("GenerateUploadUrl hands out a URL that takes the zip without credentials, and the deploy sees it", async () => {
    const [upload] = await client.generateUploadUrl({ parent });
    const zip = Buffer.from("PK\x03\x04 not really a zip");
    const withAuth = await fetch(upload.uploadUrl as string, {
      method: "PUT",
      headers: { "content-type": "application/zip", authorization: "Bearer x" },
      body: zip,
    });
    expect(withAuth.status).toBe(400);
    const put = await fetch(upload.uploadUrl as string, {
      method: "PUT",
      headers: { "content-type": "application/zip" },
      body: zip,
    });
    expect(put.status).toBe(200);
    await create("fn-code", {
      buildConfig: { runtime: "nodejs22", entryPoint: "faasade", source: { storageSource: upload.storageSource } },
    });
    expect(deployed.find((d) => d.name.endsWith("/fn-code"))?.zipBytes).toBe(zip.length);
  });

  it("lists functions across pages and deletes them", async () => {
    for (const id of ["fn-list-a", "fn-list-b", "fn-list-c"]) await create(id);
    const [all] = await client.listFunctions({ parent, pageSize: 2 });
    const names = all.map((f) => f.name?.split("/").at(-1));
    expect(names).toEqual(expect.arrayContaining(["fn-list-a", "fn-list-b", "fn-list-c"]));
    const [op] = await client.deleteFunction({ name: `${parent}/functions/fn-list-b` });
    await op.promise();
    await expect(client.getFunction({ name: `${parent}/functions/fn-list-b` })).rejects.toMatchObject({ code: 5 });
    await expect(client.deleteFunction({ name: `${parent}/functions/fn-list-b` })).rejects.toMatchObject({ code: 5 });
  });

  it("keeps a function's IAM policy (allUsers as invoker for a public web function)", async () => {
    const fn = await create("fn-web");
    const policy = { bindings: [{ role: "roles/cloudfunctions.invoker", members: ["allUsers"] }] };
    // The IAM mixin's request types are protobuf classes; the client takes plain objects of their shape.
    await client.setIamPolicy({ resource: fn.name as string, policy } as never);
    const [got] = await client.getIamPolicy({ resource: fn.name as string } as never);
    expect(got.bindings).toEqual([expect.objectContaining({ role: "roles/cloudfunctions.invoker", members: ["allUsers"] })]);
  });

  it("a burst of 503s reaches the client as UNAVAILABLE (code 14)", async () => {
    double.failNext(1);
    await expect(client.getFunction({ name: `${parent}/functions/fn-one` })).rejects.toMatchObject({ code: 14 });
    await expect(client.getFunction({ name: `${parent}/functions/fn-one` })).resolves.toBeDefined();
  });
});
