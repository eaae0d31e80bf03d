/**
 * An auth client for Google's SDKs talking to loopback test doubles: no credentials, no token
 * requests, no metadata server. gax (REST mode) asks it for request headers and sends through its
 * `fetch`; Cloud Storage asks for headers only.
 */
export interface LoopbackAuth {
  getRequestHeaders(): Promise<Headers>;
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
}

export const loopbackAuth: LoopbackAuth = {
  getRequestHeaders: async () => new Headers(),
  fetch: (input, init) => fetch(input, init),
};
