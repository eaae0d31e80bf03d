/** A web function behind functions-framework: Express's request, as the caller saw it, served by src/cloud/node-web.ts. */
import type { Request as FfRequest, Response as FfResponse } from "@google-cloud/functions-framework";
import { serveWebFunction } from "../../cloud/node-web.js";
import type { Function_ } from "../../core/function.js";

export function serveWeb(req: FfRequest, res: FfResponse, handle: Function_, exposeErrors: boolean): Promise<void> {
  const url = `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`;
  // functions-framework has read the bodies of the types it parses (rawBody); any other is still unread.
  const readBody = req.rawBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
  return serveWebFunction(req, res, handle, { url, readBody, exposeErrors });
}
