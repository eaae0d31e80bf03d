/**
 * Web endpoints: a web function takes a Web `Request` and returns a Web `Response`. Both cross
 * the wire as plain values; this adapter rebuilds the Request inside the container and turns
 * the Response back into a value.
 */
export interface WireRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

export interface WireResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

type WebFn = (request: Request) => Response | Promise<Response>;

export function webAdapter(raw: WebFn): (request: WireRequest) => Promise<WireResponse> {
  return async (w) => {
    const request = new Request(w.url, {
      method: w.method,
      headers: w.headers,
      ...(w.body !== undefined && w.method !== "GET" && w.method !== "HEAD" ? { body: w.body } : {}),
    });
    const response = await raw(request);
    if (!(response instanceof Response)) {
      throw new TypeError(`a web function must return a Response, got ${response === null ? "null" : typeof response}`);
    }
    return { status: response.status, headers: [...response.headers], body: new Uint8Array(await response.arrayBuffer()) };
  };
}
