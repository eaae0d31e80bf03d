/**
 * HTTP trigger routes as the Functions host matches them (ASP.NET route templates, the parts faasade and
 * its tests use): literal segments (case-insensitive), `{name}` one segment, `{name?}` an optional one,
 * `{*name}` the rest of the path (maybe empty); a constraint (`{id:int}`) or default (`{n=1}`) is not
 * checked. More specific templates win: without a catch-all first, then with fewer parameters.
 */

/** A segment's text; a malformed escape is kept as it came. */
const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

interface Part {
  literal?: string;
  param?: string;
  optional?: boolean;
  rest?: boolean;
}

function partsOf(template: string): Part[] {
  return template
    .split("/")
    .filter((s) => s !== "")
    .map((segment) => {
      const m = /^\{(\*{1,2})?([^}:=?]+)[^}?]*(\?)?\}$/.exec(segment);
      if (m === null) return { literal: segment.toLowerCase() };
      return { param: m[2] as string, optional: m[3] === "?", rest: m[1] !== undefined };
    });
}

/** The route parameters when `path` (without query) matches `template`; undefined when it does not. */
export function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const parts = partsOf(template);
  const segments = path.split("/").filter((s) => s !== "");
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Part;
    const segment = segments[i];
    if (part.rest) {
      params[part.param as string] = segments.slice(i).map(decode).join("/");
      return params;
    }
    if (segment === undefined) {
      if (part.optional) continue;
      return undefined;
    }
    if (part.literal !== undefined) {
      if (decode(segment).toLowerCase() !== part.literal) return undefined;
    } else params[part.param as string] = decode(segment);
  }
  return segments.length <= parts.length ? params : undefined;
}

/** Orders templates most specific first. */
export function bySpecificity(a: string, b: string): number {
  const rank = (t: string) => {
    const parts = partsOf(t);
    return [parts.some((p) => p.rest) ? 1 : 0, parts.filter((p) => p.param !== undefined).length, -parts.length];
  };
  const [x, y] = [rank(a), rank(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}
