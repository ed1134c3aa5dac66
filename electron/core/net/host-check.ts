// Which Host and Origin headers a local server answers: only the names of the address it is
// bound to, so a page on another site cannot reach it by rebinding its own name to 127.0.0.1.
// Pure (no node: imports): the headless server and the local API server share the rule.

/** The names a server may be reached by, with its port. */
export interface ServerNames {
  /** Lower-case host names and IP literals (IPv6 in brackets), without the port. */
  hosts: readonly string[];
  port: number;
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"] as const;

/** True for an address that only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** True for "every interface" (0.0.0.0, ::): the server is reachable by all of the machine's addresses. */
export function isWildcardHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, "$1");
  return name === "0.0.0.0" || name === "::" || name === "";
}

/** An IP literal or name as it appears in a Host header: IPv6 in brackets, lower case. */
function hostForm(host: string): string {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name.includes(":") ? `[${name}]` : name;
}

/**
 * The names a server bound to `boundHost` answers to. Loopback names always (the machine's
 * own browser); the configured host when it is not loopback; on a wildcard bind, also the
 * machine's interface addresses (the caller lists them: this module reads no system state).
 */
export function serverNames(boundHost: string, port: number, interfaceAddresses: readonly string[] = []): ServerNames {
  const hosts = new Set<string>(LOOPBACK_NAMES);
  if (isWildcardHost(boundHost)) {
    for (const address of interfaceAddresses) hosts.add(hostForm(address));
  } else {
    hosts.add(hostForm(boundHost));
  }
  return { hosts: [...hosts], port };
}

// host [":" port] with host a name, an IPv4 literal or a bracketed IPv6 literal. Anything
// else (user info, paths, spaces, a trailing dot, percent escapes) is not a Host we answer.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::([0-9]{1,5}))?$/;

/** Parses "host[:port]"; the port is null when absent. Null for anything malformed. */
function parseHostPort(value: string): { host: string; port: number | null } | null {
  const match = HOST_HEADER.exec(value.toLowerCase());
  if (!match?.[1]) return null;
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && port > 65535) return null;
  return { host: match[1], port };
}

function namesThisServer(host: string, port: number, names: ServerNames): boolean {
  return port === names.port && names.hosts.includes(host);
}

/**
 * True when a request's Host header names this server. A missing header (HTTP/1.0) is
 * refused: without it a rebinding page cannot be told from the machine's own browser.
 */
export function isAllowedHost(header: string | undefined, names: ServerNames): boolean {
  if (header === undefined) return false;
  const parsed = parseHostPort(header);
  if (!parsed) return false;
  // A browser leaves the port out only when it is the scheme's default.
  return namesThisServer(parsed.host, parsed.port ?? 80, names);
}

/**
 * True when a request's Origin is one of this server's own pages, or absent (a client that
 * is not a browser: browsers always send Origin on WebSocket upgrades and cross-site calls).
 * "null" (sandboxed frames, file pages) and every other site are refused.
 */
export function isAllowedOrigin(header: string | undefined, names: ServerNames): boolean {
  if (header === undefined) return true;
  const match = /^http:\/\/([^/?#@]+)$/i.exec(header);
  if (!match?.[1]) return false;
  const parsed = parseHostPort(match[1]);
  if (!parsed) return false;
  return namesThisServer(parsed.host, parsed.port ?? 80, names);
}
