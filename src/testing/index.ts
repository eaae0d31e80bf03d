/**
 * @module
 * For provider authors: the conformance suite and an in-memory provider for unit tests; for app
 * authors: offline backends. Only `testProvider` needs vitest (an optional peer): the rest works
 * without it.
 */
export { testProvider, type ConformanceOptions } from "./conformance.js";
export { memoryProvider, type MemoryProvider } from "./memory-provider.js";
export { startTestBackend, type TestBackendOptions } from "./backend.js";
