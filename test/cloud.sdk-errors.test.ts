// What every cloud's SDK errors share (src/cloud/sdk-errors.ts): passing statuses and broken connections,
// the mapped call, and "not found" as absence.
import { describe, expect, it } from "vitest";
import { isNetworkFailure, isPassingStatus, sdkCall, unlessNotFound } from "../src/cloud/sdk-errors.js";
import { NotFoundError, ProviderError } from "../src/core/errors.js";

describe("cloud SDK errors", () => {
  it("429 and 5xx are passing; other statuses and none are not", () => {
    for (const status of [429, 500, 502, 503, 504]) expect(isPassingStatus(status)).toBe(true);
    for (const status of [undefined, 200, 400, 403, 404, 409, 412]) expect(isPassingStatus(status)).toBe(false);
  });

  it("a broken connection is passing, on the error or on its cause (fetch wraps undici's)", () => {
    expect(isNetworkFailure(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(true);
    expect(isNetworkFailure(new TypeError("fetch failed", { cause: { code: "UND_ERR_SOCKET" } }))).toBe(true);
    expect(isNetworkFailure({ code: "ECONNABORTED" })).toBe(true);
    expect(isNetworkFailure({ code: "ENOENT" })).toBe(false);
    expect(isNetworkFailure({ code: 14 })).toBe(false);
    expect(isNetworkFailure(undefined)).toBe(false);
  });

  it("sdkCall passes the answer through and maps a failure with the operation", async () => {
    const wrap = (operation: string, cause: unknown) => new ProviderError(`p ${operation} failed`, { cause });
    expect(await sdkCall("get", async () => 42, wrap)).toBe(42);
    const cause = new Error("boom");
    const err = await sdkCall("get x", () => Promise.reject(cause), wrap).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe("p get x failed");
    expect((err as Error).cause).toBe(cause);
  });

  it("unlessNotFound turns NotFoundError into undefined and lets every other failure through", async () => {
    expect(await unlessNotFound(Promise.resolve("v"))).toBe("v");
    expect(await unlessNotFound(Promise.reject(new NotFoundError("gone")))).toBeUndefined();
    await expect(unlessNotFound(Promise.reject(new ProviderError("denied")))).rejects.toThrow("denied");
  });
});
