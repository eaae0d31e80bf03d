/**
 * One instance of a function, as Cloud Run starts it: a process of its own that loads the
 * runtime beside the app's module, registers it with functions-framework, and serves it with
 * the framework's own server on 127.0.0.1 (never the CLI, which listens on every interface).
 * The function host forks it and is told its port. Its store and queue are the deployed
 * runtime's own (Cloud Storage and Cloud Tasks, from the environment), or those of the module
 * named by FAASADE_GCP_PLATFORM (exporting `store(bucket)` and `queue(name)`) when one is given.
 */
import type { AddressInfo } from "node:net";
import type { RuntimeOptions } from "../../providers/gcp/runtime.js";

const moduleUrl = process.env.FAASADE_GCP_MODULE;
if (moduleUrl === undefined) throw new Error("faasade: an instance needs FAASADE_GCP_MODULE (the app's module URL)");

const runtime = await import("../../providers/gcp/runtime.js");
const load = () => import(moduleUrl);
runtime.appModule(load);
// As a deployed bundle imports the app statically: a failure is kept by appModule (INIT_FAILURE).
await load().catch(() => {});
const platformUrl = process.env.FAASADE_GCP_PLATFORM;
const platform: Partial<RuntimeOptions> = platformUrl ? await import(platformUrl) : {};
runtime.registerFaasade({ ...platform, entryPoint: "faasade" });
const { getTestServer } = await import("@google-cloud/functions-framework/testing");
const server = getTestServer("faasade");
// The host keeps its connections to an instance open: an instance closing an idle one on its own
// clock (Node's 5 s) could meet a request the host was writing to it, lost with the connection.
server.keepAliveTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
// The host going away ends the instance, as the platform would.
process.on("disconnect", () => process.exit(0));
