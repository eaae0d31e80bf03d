/**
 * @module
 * faasade: Modal's Function / FunctionCall semantics on any serverless provider.
 */
export { App, type AppOptions } from "./core/app.js";
export { currentInput, type CurrentInput } from "./core/context.js";
export {
  ExecutionError,
  FaasadeError,
  FunctionTimeoutError,
  InputCancelledError,
  InternalFailure,
  InvalidError,
  NotFoundError,
  OutputExpiredError,
  ProviderError,
  RemoteError,
  SerializationError,
  DeserializationError,
  TimeoutError,
  UserCodeError,
} from "./core/errors.js";
export {
  Function_,
  Function_ as Function,
  type AnyFunction,
  type ForEachOptions,
  type FromNameOptions,
  type ResultOf,
  type YieldOf,
} from "./core/function.js";
export { FunctionCall, gather, type FromIdOptions, type GetOptions } from "./core/function-call.js";
export type { CallKind, FunctionKind } from "./core/kinds.js";
export type { MapOptions } from "./core/map.js";
export type { FunctionOptions, WebOptions } from "./core/options.js";
export {
  InputStatus,
  type AbortOptions,
  type AutoscalerSettings,
  type EffectiveAutoscaler,
  type FunctionSpec,
  type FunctionStats,
  type Input,
  type Outcome,
  type OutcomeSink,
  type Provider,
} from "./core/provider.js";
export type { InputInfo } from "./core/call-graph.js";
export { Retries, type RetriesOptions } from "./core/retries.js";
export { decode, encode } from "./core/codec.js";
