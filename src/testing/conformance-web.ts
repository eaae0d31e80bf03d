/**
 * Conformance rows for web functions: where the provider serves them (`webEndpoints`), the URL
 * answers a request with the function's Response; elsewhere `getWebUrl` says it cannot.
 */
import { ExecutionError, InvalidError } from "../core/errors.js";
import type { RowContext } from "./conformance-context.js";

export function webRows({ vt, f, webEndpoints }: RowContext): void {
  const { expect, it } = vt;

  it("a web function's URL answers a POST with the function's Response", async ({ skip }) => {
    if (!webEndpoints) skip("webEndpoints is not set: the provider serves no web functions at URLs");
    const url = await f("webEcho").getWebUrl();
    expect(url).toMatch(/^https?:\/\//);
    const response = await fetch(url as string, {
      method: "POST",
      headers: { "content-type": "text/plain", "x-conformance": "ping" },
      body: "hello body",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-echo")).toBe("ping");
    expect(await response.text()).toBe("POST hello body");
  });

  it("without served web endpoints, getWebUrl refuses with ExecutionError", async ({ skip }) => {
    if (webEndpoints) skip("webEndpoints is set: the row above checks the served URL");
    await expect(f("webEcho").getWebUrl()).rejects.toBeInstanceOf(ExecutionError);
  });

  it("a web function is not called with remote or spawn", async () => {
    // @ts-expect-error remote() on a web function is a type error too; this row checks the runtime refusal
    await expect(f("webEcho").remote(new Request("http://127.0.0.1/"))).rejects.toBeInstanceOf(InvalidError);
    // @ts-expect-error spawn() on a web function, likewise
    await expect(f("webEcho").spawn(new Request("http://127.0.0.1/"))).rejects.toBeInstanceOf(InvalidError);
  });
}
