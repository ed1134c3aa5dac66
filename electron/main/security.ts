// The parts of Electron's security checklist that are code: permissions denied, no network
// from web content, and for every webContents (the window's and any other, so nothing
// created later escapes): no navigation away from app://, no new windows, no <webview>,
// and shell.openExternal only for https links the user clicked in the app's own page.
// The decisions are pure (security-decisions.ts, and the link gate in common/external-link.ts);
// this file wires them to Electron. The response headers live in common/response-headers.ts
// (shared with headless mode); fuses are set at packaging (build/electron-builder.config.cjs).

import { app, shell, type Session, type WebContents, type WebFrameMain } from "electron";
import { QuantaError } from "../contract/errors.js";
import { isAppUrl } from "../common/app-origin.js";
import { ExternalLinkGate } from "../common/external-link.js";
import {
  downloadAllowed,
  mainFrameNavigation,
  permissionAllowed,
  redirectNavigation,
  requestBlocked,
  subframeNavigation,
  windowOpenRequest,
} from "./security-decisions.js";

/** Quanta asks for no permission (camera, notifications, HID, serial...), so all are refused. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(permissionAllowed(permission)));
  session.setPermissionCheckHandler((_contents, permission) => permissionAllowed(permission));
  session.setDevicePermissionHandler((details) => permissionAllowed(details.deviceType));
  // The one download allowed (a page's own export) goes through a save dialog.
  session.on("will-download", (event, item) => {
    if (!downloadAllowed(item.getURL())) {
      event.preventDefault();
      return;
    }
    item.setSaveDialogOptions({ title: "Save export", defaultPath: item.getFilename() });
  });
}

/**
 * Web content never reaches the network or the file system by URL; this backs up the CSP for
 * anything that slips past it. (No URL filter: every request is checked here, so no pattern
 * syntax can silently leave a scheme out.)
 */
export function blockWebContentNetwork(session: Session): void {
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: requestBlocked(details.url, details.webContentsId !== undefined) });
  });
}

/** A frame of the app's own page (false for a frame that is gone). */
function isAppFrame(frame: WebFrameMain | null | undefined): boolean {
  try {
    return frame != null && !frame.isDestroyed() && isAppUrl(frame.url);
  } catch {
    return false;
  }
}

// One gate for every way a link reaches the browser: navigations, window.open and the core's
// openExternal (openLinkForCore), so a burst from any mix of them opens one tab.
const externalLinks = new ExternalLinkGate();

/** Opens an https link in the user's browser when the gate allows; true when it was opened. */
function openInBrowser(url: string, fromAppPage: boolean): boolean {
  const decision = externalLinks.decide(url, fromAppPage);
  if (!decision.open) return false;
  shell.openExternal(decision.url).catch((error: unknown) => {
    console.error(`quanta: could not open ${decision.url} in the browser:`, error);
  });
  return true;
}

/**
 * The core's openExternal (CoreOptions.openExternal): the call comes over the app page's own
 * channel, so it is from the app; the core has already refused anything but https.
 */
export async function openLinkForCore(url: string): Promise<void> {
  const decision = externalLinks.decide(url, true);
  if (!decision.open) {
    throw new QuantaError(
      "invalid_request",
      decision.reason === "too_soon" ? "A link was opened less than a second ago; try again." : "That link is not opened.",
    );
  }
  await shell.openExternal(decision.url);
}

function guardWebContents(contents: WebContents): void {
  // The window never embeds other pages (webviewTag is off too).
  contents.on("will-attach-webview", (event) => event.preventDefault());

  contents.on("will-navigate", (event) => {
    const outcome = mainFrameNavigation(event.url, isAppFrame(event.initiator));
    if (outcome === "allow") return;
    event.preventDefault();
    if (outcome === "open_in_browser") openInBrowser(event.url, true);
  });
  contents.on("will-frame-navigate", (event) => {
    if (subframeNavigation(event.url, event.isMainFrame) === "deny") event.preventDefault();
  });
  contents.on("will-redirect", (event) => {
    if (redirectNavigation(event.url) === "deny") event.preventDefault();
  });

  // window.open and target="_blank" links: never a new Electron window.
  contents.setWindowOpenHandler(({ url }) => {
    if (windowOpenRequest(contents.getURL()) === "open_in_browser") openInBrowser(url, true);
    return { action: "deny" };
  });

  // Web Bluetooth picks the first device unless told otherwise.
  contents.on("select-bluetooth-device", (event, _devices, callback) => {
    event.preventDefault();
    callback("");
  });
}

/** Guards every webContents as it is created. Call once, before the first window. */
export function guardAllWebContents(): void {
  app.on("web-contents-created", (_event, contents) => guardWebContents(contents));
}
