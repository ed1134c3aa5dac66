// Which Host headers and Origins the API accepts: the defence against DNS rebinding (a web page
// whose domain is re-pointed at 127.0.0.1) and against other sites' pages calling the API.

import net from "node:net";

export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || (net.isIPv4(bare) && bare.startsWith("127."));
}

/** Splits "host:port" and "[v6]:port"; null when the header is malformed. */
export function parseHostHeader(header: string): { host: string; port: number | null } | null {
  const match = /^(\[[0-9a-fA-F:.%]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!match?.[1]) return null;
  return { host: match[1].replace(/^\[|\]$/g, "").toLowerCase(), port: match[2] === undefined ? null : Number(match[2]) };
}

/**
 * A Host header the server answers: an IP address literal, "localhost", or the name it was
 * bound to, on its own port. A domain name is refused, which a rebinding page always sends.
 */
export function isAllowedHost(header: string | undefined, bound: { host: string; port: number }): boolean {
  if (header === undefined) return false;
  const parsed = parseHostHeader(header);
  if (!parsed) return false;
  if (parsed.port !== null && parsed.port !== bound.port) return false;
  if (isLoopbackAddress(bound.host) && !isLoopbackAddress(parsed.host)) return false;
  return net.isIP(parsed.host) !== 0 || parsed.host === "localhost" || parsed.host === bound.host.toLowerCase();
}

/** Whether a browser page from this Origin may call the API (CORS on, and the origin listed or "*"). */
export function isAllowedOrigin(origin: string, cors: { enabled: boolean; origins: readonly string[] }): boolean {
  if (!cors.enabled) return false;
  return cors.origins.includes("*") || cors.origins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase());
}
