/** What every gcp deploy step shares: the resolved options, the clients, the log. */
import { type GcpClients, gcpClients } from "../clients.js";
import { type AppRef, locationPath } from "../names.js";
import { type GcpOptions, type ResolvedGcpOptions, resolveGcpOptions } from "../options.js";

export interface GcpDeployOptions extends GcpOptions {
  /** Progress lines (the CLI's spinner). */
  log?: (line: string) => void;
  /** Memory of a function that sets none. @default 512 */
  memoryMb?: number;
  /** Packages to install into the bundle instead of inlining them. */
  external?: string[];
}

export interface GcpDeployContext {
  options: ResolvedGcpOptions;
  sdk: GcpClients;
  /** `projects/<p>/locations/<r>` */
  location: string;
  memoryMb: number;
  log: (line: string) => void;
}

export function deployContext(options: GcpDeployOptions): GcpDeployContext {
  const { log, memoryMb, external: _external, ...provider } = options;
  const resolved = resolveGcpOptions(provider);
  return {
    options: resolved,
    sdk: gcpClients({ project: resolved.project, endpoints: resolved.endpoints, authClient: resolved.authClient }),
    location: locationPath(resolved),
    memoryMb: memoryMb ?? 512,
    log: log ?? (() => {}),
  };
}

/** Where an app's things are (names.ts), from the options deploy and destroy were given. */
export function appRef(ctx: GcpDeployContext, app: string, environment: string): AppRef {
  const { prefix, project, region, bucket } = ctx.options;
  return { prefix, project, region, app, environment, ...(bucket === undefined ? {} : { bucket }) };
}
