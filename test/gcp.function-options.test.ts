// providerOptions.gcp and the Cloud Functions settings a function deploys with: checked before
// anything is made, each refusal naming the function, the key and the bad value.
import { App } from "faasade";
import { describe, expect, it } from "vitest";
import { manifestOf } from "../dist/src/core/manifest.js";
import { gcpSettings } from "../src/providers/gcp/deploy/function-options.js";

let n = 0;
const manifestWith = (options: object) => {
  const app = new App(`opts-${n++}`);
  app.function(function f(x: number) {
    return x;
  }, options as never);
  return manifestOf(app as never).functions[0] as Parameters<typeof gcpSettings>[0];
};
const defaults = { memoryMb: 512 };

describe("gcp function settings", () => {
  it("derive from the function's options: memory, timeout with a margin, instances, concurrency", () => {
    const s = gcpSettings(
      manifestWith({ timeoutMs: 60_000, minContainers: 1, maxContainers: 7, maxInputs: 4, memoryMb: 2048, env: { A: "1" } }),
      defaults,
    );
    expect(s).toMatchObject({
      memoryMb: 2048,
      availableMemory: "2Gi",
      timeoutS: 65,
      minInstances: 1,
      maxInstances: 7,
      concurrency: 4,
    });
    expect(s.environment).toEqual({ A: "1" });
    expect(gcpSettings(manifestWith({}), defaults)).toMatchObject({
      availableMemory: "512Mi",
      maxInstances: 100,
      concurrency: 1,
      ingress: "ALLOW_ALL",
    });
  });

  it("providerOptions.gcp overrides memory and adds what Cloud Functions alone has", () => {
    const s = gcpSettings(
      manifestWith({
        maxInputs: 8,
        providerOptions: { gcp: { memoryMb: 4096, cpu: 2, ingress: "ALLOW_INTERNAL_ONLY", environment: { B: "2" } } },
      }),
      defaults,
    );
    expect(s).toMatchObject({ memoryMb: 4096, cpu: 2, ingress: "ALLOW_INTERNAL_ONLY", environment: { B: "2" } });
  });

  it.each([
    [
      { providerOptions: { gcp: { memoryMb: 64 } } },
      /providerOptions.gcp.memoryMb \(or memoryMb\) must be an integer from 128 to 32768, got 64/,
    ],
    [{ providerOptions: { gcp: { cpu: 9 } } }, /providerOptions.gcp.cpu must be a number from 0.083 to 8, got 9/],
    [{ maxInputs: 4, providerOptions: { gcp: { cpu: 0.5 } } }, /cpu must be at least 1 for maxInputs 4/],
    [{ providerOptions: { gcp: { ingress: "PUBLIC" } } }, /ingress must be one of ALLOW_ALL, .*got "PUBLIC"/],
    [{ providerOptions: { gcp: { vpcConnector: "my-connector" } } }, /vpcConnector must be projects\/<project>/],
    [{ providerOptions: { gcp: { serviceAccount: "me" } } }, /serviceAccount must be a service account e-mail, got "me"/],
    [{ providerOptions: { gcp: { environment: { PORT: "1" } } } }, /environment: "PORT" is not a name a function may set/],
    [{ providerOptions: { gcp: { environment: { FAASADE_X: "1" } } } }, /"FAASADE_X" is not a name/],
    [{ providerOptions: { gcp: { memory: "1Gi" } } }, /providerOptions.gcp has no option "memory"; known: memoryMb/],
    [{ timeoutMs: 3_600_000 }, /timeoutMs 3600000 is longer than Cloud Functions' 60 minutes/],
  ])("refuses %j", (options, message) => {
    expect(() => gcpSettings(manifestWith(options), defaults)).toThrow(message);
    expect(() => gcpSettings(manifestWith(options), defaults)).toThrow(/^function "f"/);
  });
});
