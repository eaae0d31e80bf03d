// The option checks and environment defaults every cloud provider shares (src/cloud/options.ts, env.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import { envEndpoints, fromEnv, required } from "../src/cloud/env.js";
import { endpointUrls, matching, oneOf, optionsObject, patternRules } from "../src/cloud/options.js";

afterEach(() => vi.unstubAllEnvs());

describe("cloud option checks", () => {
  it("optionsObject refuses a non-object and, given the known keys, names the unknown one and lists the known", () => {
    expect(() => optionsObject("p", null)).toThrow("p: options must be an object, got null");
    expect(() => optionsObject("p", "x")).toThrow(/p: options must be an object, got "x"/);
    expect(optionsObject("p", { anything: 1 })).toEqual({ anything: 1 });
    expect(() => optionsObject("p", { regoin: 1 }, ["region", "prefix"])).toThrow(
      'p: unknown option "regoin"; known: region, prefix',
    );
    expect(optionsObject("p", { region: "r" }, ["region"])).toEqual({ region: "r" });
  });

  it("matching and patternRules quote the bad value after the example; oneOf lists the allowed", () => {
    expect(matching("p", "region", "us-east-1", /^[a-z0-9-]+$/, "a region")).toBe("us-east-1");
    expect(() => matching("p", "region", "US EAST", /^[a-z0-9-]+$/, 'a region such as "us-east-1"')).toThrow(
      'p: region must be a region such as "us-east-1", got "US EAST"',
    );
    expect(() => matching("p", "region", 7, /./, "a region")).toThrow("p: region must be a region, got 7");
    const check = patternRules("p", { prefix: [/^[a-z]+$/, '"faasade"'] });
    expect(check("prefix", "abc")).toBe("abc");
    expect(() => check("prefix", "A")).toThrow('p: prefix must be "faasade", got "A"');
    expect(oneOf("p", "runtime", "b", ["a", "b"])).toBe("b");
    expect(() => oneOf("p", "runtime", "c", ["a", "b"])).toThrow('p: runtime must be one of a, b, got "c"');
  });

  it("endpointUrls takes http(s) origins of known services, drops a trailing slash, and refuses the rest by name", () => {
    const services = ["tasks", "storage"] as const;
    expect(endpointUrls("p", undefined, services)).toEqual({});
    expect(endpointUrls("p", { tasks: "http://127.0.0.1:8123/", storage: undefined }, services)).toEqual({
      tasks: "http://127.0.0.1:8123",
    });
    expect(() => endpointUrls("p", "http://x", services)).toThrow('p: endpoints must be an object, got "http://x"');
    expect(() => endpointUrls("p", { queue: "http://x" }, services)).toThrow(
      'p: endpoints has no service "queue"; known: tasks, storage',
    );
    expect(() => endpointUrls("p", { tasks: "http://x/path" }, services)).toThrow(
      /p: endpoints.tasks must be a URL .*got "http:\/\/x\/path"/,
    );
    expect(() => endpointUrls("p", { tasks: "ftp://x" }, services)).toThrow(/got "ftp:\/\/x"/);
  });
});

describe("cloud defaults from the environment", () => {
  it("fromEnv takes the first variable set and not empty", () => {
    vi.stubEnv("FAASADE_TEST_A", "");
    vi.stubEnv("FAASADE_TEST_B", "b");
    vi.stubEnv("FAASADE_TEST_C", "c");
    expect(fromEnv("FAASADE_TEST_A", "FAASADE_TEST_B", "FAASADE_TEST_C")).toBe("b");
    expect(fromEnv("FAASADE_TEST_A")).toBeUndefined();
  });

  it("required prefers the option, then the variables, else says how to set it", () => {
    vi.stubEnv("FAASADE_TEST_A", "");
    vi.stubEnv("FAASADE_TEST_B", "from-env");
    expect(required("p", "region", "given", ["FAASADE_TEST_A"], "region", "r1")).toBe("given");
    expect(required("p", "region", undefined, ["FAASADE_TEST_A", "FAASADE_TEST_B"], "region", "r1")).toBe("from-env");
    expect(() => required("p", "region", undefined, ["FAASADE_TEST_A"], "region", "r1")).toThrow(
      'p: no region is set: set FAASADE_TEST_A (export FAASADE_TEST_A=r1), or pass p({ region: "r1" }) in code',
    );
  });

  it("envEndpoints reads <PREFIX><SERVICE>, an empty one as absent", () => {
    const vars = { X_EP_TASKS: "http://127.0.0.1:1", X_EP_STORAGE: "" };
    expect(envEndpoints(["tasks", "storage"], "X_EP_", vars)).toEqual({ tasks: "http://127.0.0.1:1", storage: undefined });
  });
});
