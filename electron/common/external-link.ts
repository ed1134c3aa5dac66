// Which links Quanta opens in the user's browser, and how often: one policy for the desktop
// shell's navigations and window.open (main/security.ts), the core's openExternal call
// (core/chats/external-link.ts) and the renderer's Markdown links. A link is https, without
// credentials; it is opened only at the app page's request, and a burst opens one tab.

export type LinkRefusal = "invalid" | "not_https" | "credentials";

/** The link as it will be opened (normalized), or why it is not opened. */
export function checkHttpsLink(text: string): { ok: true; url: string } | { ok: false; reason: LinkRefusal } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "not_https" };
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "credentials" };
  return { ok: true, url: url.href };
}

/** The normalized https link, or null when it may not be followed. */
export function httpsLinkOrNull(text: string): string | null {
  const checked = checkHttpsLink(text);
  return checked.ok ? checked.url : null;
}

/** At most one link opened per interval, whichever path asked. */
export const EXTERNAL_OPEN_INTERVAL_MS = 1000;

export type ExternalOpenDecision =
  | { open: true; url: string }
  | { open: false; reason: LinkRefusal | "not_from_app" | "too_soon" };

/**
 * Decides each request to open a link in the browser. Nothing tells the main process whether
 * the user clicked, so "the user asked" is approximated: the request comes from the app's own
 * page (its CSP keeps foreign script out), and a burst opens one tab at most. One gate per
 * process that opens links, shared by every path that opens them.
 */
export class ExternalLinkGate {
  private lastOpenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly intervalMs: number = EXTERNAL_OPEN_INTERVAL_MS,
  ) {}

  /** A decision to open counts towards the interval; a refusal does not. */
  decide(text: string, fromAppPage: boolean): ExternalOpenDecision {
    if (!fromAppPage) return { open: false, reason: "not_from_app" };
    const checked = checkHttpsLink(text);
    if (!checked.ok) return { open: false, reason: checked.reason };
    const at = this.now();
    if (at - this.lastOpenAt < this.intervalMs) return { open: false, reason: "too_soon" };
    this.lastOpenAt = at;
    return { open: true, url: checked.url };
  }
}
