// testProvider checks its options before it declares a row: a bad one names the option and quotes the value.
import { InvalidError } from "faasade";
import { testProvider } from "faasade/testing";
import { describe, expect, it } from "vitest";

const provider = () => {
  throw new Error("never called: the options are refused first");
};

describe("testProvider options", () => {
  it.each([
    [{ rowTimeoutMs: 500 }, /rowTimeoutMs must be an integer from 1000 to 600000, got 500/],
    [{ rowTimeoutMs: "60s" }, /rowTimeoutMs must be .*got "60s"/],
    [{ retentionMs: 120_000 }, /retentionMs must be an integer from 1 to 60000, got 120000/],
    [{ exitCodes: "no" }, /exitCodes must be a boolean, got "no"/],
    [{ name: "" }, /name must be a non-empty string/],
  ])("refuses %j", (bad, message) => {
    const call = () => testProvider({ name: "x", provider, ...bad } as never);
    expect(call).toThrow(InvalidError);
    expect(call).toThrow(message);
  });
});
