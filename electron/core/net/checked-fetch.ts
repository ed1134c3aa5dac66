// Fetches for the hub that follow redirects one hop at a time and check each: the hub the
// user (or QUANTA_HUB_URL) chose is trusted wherever it is, but a redirect to any other
// place must be http(s) and resolve only to public addresses, never to this machine, a
// private network or a link-local one (cloud metadata). What the renderer sends can then
// not aim Quanta at a service behind the user's firewall.

import { lookup } from "node:dns/promises";
import { QuantaError } from "../../contract/errors.js";
import { addressKind } from "./address-kind.js";

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface CheckedFetchOptions {
  /** The origin trusted as it is: the configured hub's. */
  trustedOrigin: string;
  fetchImpl?: typeof fetch;
  /** Every address a host name resolves to (tests give their own). */
  resolve?: (hostname: string) => Promise<string[]>;
}

async function resolveAll(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);
}

/** Refuses a destination outside the trusted origin unless it is public, by every address it has. */
export async function checkDestination(url: URL, options: CheckedFetchOptions): Promise<void> {
  if (url.origin === new URL(options.trustedOrigin).origin) return;
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new QuantaError("hub_unreachable", `The hub sent Quanta to a ${url.protocol} address; only http and https are followed.`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new QuantaError("hub_unreachable", "The hub sent Quanta to an address with a user name in it; it is not followed.");
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (addressKind(hostname) !== null) {
    addresses = [hostname];
  } else {
    try {
      addresses = await (options.resolve ?? resolveAll)(hostname);
    } catch {
      throw new QuantaError("hub_unreachable", `Quanta could not find ${url.host} (the hub sent it there).`);
    }
  }
  const refused = addresses.find((address) => addressKind(address) !== "public");
  if (refused !== undefined || addresses.length === 0) {
    throw new QuantaError(
      "hub_unreachable",
      `The hub sent Quanta to ${url.host}, which is ${refused === undefined ? "nowhere" : `${addressKind(refused)} (${refused})`}: Quanta follows the hub only to public addresses.`,
    );
  }
}

/**
 * fetch() with redirects followed by hand, each destination checked first. Returns the
 * response of the last hop and its URL (the address a download or the engine then uses).
 */
export async function fetchCheckingRedirects(
  start: URL,
  init: RequestInit,
  options: CheckedFetchOptions,
): Promise<{ response: Response; url: URL }> {
  const fetchImpl = options.fetchImpl ?? fetch;
  let url = start;
  for (let hop = 0; ; hop += 1) {
    await checkDestination(url, options);
    const response = await fetchImpl(url, { ...init, redirect: "manual" });
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, url };
    await response.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new QuantaError("hub_unreachable", `The hub redirected Quanta more than ${MAX_REDIRECTS} times.`);
    try {
      url = new URL(location, url);
    } catch {
      throw new QuantaError("hub_unreachable", "The hub redirected Quanta to an address that is not one.");
    }
  }
}
