// What the Electron shell allows its web content to do, as pure decisions: security.ts feeds
// them Electron's events and carries them out. No electron import, so they are unit-tested
// without Electron (test/unit/security-decisions.test.ts).

import { APP_ORIGIN, isAppUrl } from "../common/app-origin.js";

/** Quanta asks for no permission (camera, notifications, HID, serial...), so every one is refused. */
export function permissionAllowed(_permission: string): boolean {
  return false;
}

/**
 * A download Chromium may start: only an export the page made itself (a blob: URL from
 * app://quanta, e.g. the hardware monitor's CSV or PNG). Model downloads are the core's job.
 */
export function downloadAllowed(url: string): boolean {
  return url.startsWith(`blob:${APP_ORIGIN}/`);
}

const NETWORK_PROTOCOLS = new Set(["http:", "https:", "ws:", "wss:", "ftp:", "file:"]);

/**
 * Web content never reaches the network or the file system by URL (the renderer talks to the
 * core over its MessagePort; its files come from app://). Requests the main process makes
 * itself (no webContents) are left alone. Unparseable URLs are not network requests.
 */
export function requestBlocked(url: string, fromWebContent: boolean): boolean {
  if (!fromWebContent) return false;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return false;
  }
  return NETWORK_PROTOCOLS.has(protocol);
}

/** What happens to a navigation, a redirect or a window.open. */
export type NavigationOutcome = "allow" | "deny" | "open_in_browser";

/**
 * A main-frame navigation stays inside app://quanta; a link followed from the app's own page
 * is offered to the browser instead (the link gate then decides); anything else is denied.
 */
export function mainFrameNavigation(url: string, initiatorIsAppPage: boolean): NavigationOutcome {
  if (isAppUrl(url)) return "allow";
  return initiatorIsAppPage ? "open_in_browser" : "deny";
}

/** Subframes (none are expected) and redirects may not leave the app. */
export function subframeNavigation(url: string, isMainFrame: boolean): NavigationOutcome {
  return isMainFrame || isAppUrl(url) ? "allow" : "deny";
}

export function redirectNavigation(url: string): NavigationOutcome {
  return isAppUrl(url) ? "allow" : "deny";
}

/**
 * window.open and target="_blank": never a new Electron window; from the app's own page the
 * link is offered to the browser.
 */
export function windowOpenRequest(openerUrl: string): Exclude<NavigationOutcome, "allow"> {
  return isAppUrl(openerUrl) ? "open_in_browser" : "deny";
}
