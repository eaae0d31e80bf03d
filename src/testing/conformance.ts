/**
 * The provider conformance suite: the contract stated once, run against every provider.
 * A provider's test file calls `testProvider({ name, provider })` inside vitest. Every row
 * asserts, or is skipped by name with the reason (a capability the provider does not declare).
 */
import { InvalidError, describe as describeValue } from "../core/errors.js";
import { Function_ } from "../core/function.js";
import type { Provider } from "../core/provider.js";
import { callRows } from "./conformance-calls.js";
import { cancelRows } from "./conformance-cancel.js";
import type { Fixtures, Name, RowContext } from "./conformance-context.js";
import { controlRows } from "./conformance-control.js";
import { failureRows, outOfMemoryRow } from "./conformance-failures.js";
import { spawnRows } from "./conformance-spawn.js";
import { vitest } from "./conformance-vitest.js";
import { webRows } from "./conformance-web.js";
import * as fixtures from "./fixtures.js";

export interface ConformanceOptions {
  name: string;
  provider: () => Provider;
  /** Whether containers are separate processes that can be killed (timeouts of sync code, exits, OOM). @default true */
  isolated?: boolean;
  /**
   * How long the provider under test keeps a finished call's result (ms, at most 60 000). The
   * expiry row runs when set, waiting that long; else it is skipped by name.
   */
  retentionMs?: number;
  /**
   * Whether the provider serves web functions at URLs (`getWebUrl()` resolves and the URL answers).
   * When set, the web row sends a POST; otherwise a row checks that `getWebUrl()` refuses. @default false
   */
  webEndpoints?: boolean;
  /**
   * Whether the caller learns the exit code of a container that called `process.exit` (Azure's host does
   * not report it for the queued runs that serve long functions' calls). When false, the exit row checks
   * the failure without the code. @default true
   */
  exitCodes?: boolean;
  /**
   * The time a row may take, for rows that name none of their own (ms, 1 000 to 600 000). A backend
   * whose calls all pass an emulated queue and object store (azure's, for functions whose timeout is past
   * its HTTP limit) needs more than an in-process one on a loaded machine; no row asserts it. @default 20 000
   */
  rowTimeoutMs?: number;
}

/** The expiry row waits out the retention: longer would hold a test run for minutes. */
const MAX_RETENTION_MS = 60_000;

export function testProvider(options: ConformanceOptions): void {
  const checked = checkOptions(options);
  const vt = vitest();
  vt.describe(`provider conformance: ${checked.name}`, { timeout: checked.rowTimeoutMs }, () => {
    let provider: Provider | undefined;
    const current = () => {
      provider ??= checked.provider();
      return provider;
    };
    const f = <K extends Name>(name: K): Fixtures[K] =>
      Function_.fromName(fixtures.app.name, name, { provider: current() }) as unknown as Fixtures[K];
    vt.afterAll(async () => {
      await provider?.close();
    });
    const rows: RowContext = {
      vt,
      f,
      provider: current,
      isolated: checked.isolated,
      retentionMs: checked.retentionMs,
      webEndpoints: checked.webEndpoints,
      exitCodes: checked.exitCodes,
    };
    callRows(rows);
    spawnRows(rows);
    webRows(rows);
    failureRows(rows);
    controlRows(rows);
    cancelRows(rows);
    outOfMemoryRow(rows);
  });
}

interface CheckedOptions {
  name: string;
  provider: () => Provider;
  isolated: boolean;
  retentionMs: number | undefined;
  webEndpoints: boolean;
  exitCodes: boolean;
  rowTimeoutMs: number;
}

function checkOptions(options: ConformanceOptions): CheckedOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidError(`testProvider: expected { name, provider }, got ${describeValue(options)}`);
  }
  const { name, provider, isolated = true, retentionMs, webEndpoints = false, exitCodes = true, rowTimeoutMs = 20_000 } = options;
  if (typeof name !== "string" || name === "") {
    throw new InvalidError(`testProvider: name must be a non-empty string, got ${describeValue(name)}`);
  }
  if (typeof provider !== "function") {
    throw new InvalidError(`testProvider: provider must be a function returning a Provider, got ${describeValue(provider)}`);
  }
  if (typeof isolated !== "boolean") {
    throw new InvalidError(`testProvider: isolated must be a boolean, got ${describeValue(isolated)}`);
  }
  for (const [key, value] of Object.entries({ webEndpoints, exitCodes }))
    if (typeof value !== "boolean") throw new InvalidError(`testProvider: ${key} must be a boolean, got ${describeValue(value)}`);
  if (
    retentionMs !== undefined &&
    (typeof retentionMs !== "number" || !Number.isInteger(retentionMs) || retentionMs < 1 || retentionMs > MAX_RETENTION_MS)
  ) {
    throw new InvalidError(
      `testProvider: retentionMs must be an integer from 1 to ${MAX_RETENTION_MS}, got ${describeValue(retentionMs)}`,
    );
  }
  if (typeof rowTimeoutMs !== "number" || !Number.isInteger(rowTimeoutMs) || rowTimeoutMs < 1000 || rowTimeoutMs > 600_000) {
    throw new InvalidError(
      `testProvider: rowTimeoutMs must be an integer from 1000 to 600000, got ${describeValue(rowTimeoutMs)}`,
    );
  }
  return { name, provider, isolated, retentionMs, webEndpoints, exitCodes, rowTimeoutMs };
}
