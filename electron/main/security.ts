// The parts of Electron's security checklist that are code: permissions denied, no network
// from web content, and for every webContents (the window's and any other, so nothing
// created later escapes): no navigation away from app://, no new windows, no <webview>,
// and shell.openExternal only for https links the user clicked in the app's own page.
// The CSP itself lives in security-policy.ts (shared with headless mode); fuses are set at
// packaging (build/electron-builder.config.cjs).

import { app, shell, type Session, type WebContents, type WebFrameMain } from "electron";
import { APP_ORIGIN, isAppUrl } from "./protocol-path.js";

/** Quanta asks for no permission (camera, notifications, HID, serial...), so all are refused. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  // Model downloads are the core's job (checked, resumable, hashed). The one download
  // Chromium may start is an export the page made itself (a blob: URL from app://quanta,
  // e.g. the hardware monitor's CSV or PNG); it goes through a save dialog.
  session.on("will-download", (event, item) => {
    const url = item.getURL();
    if (!url.startsWith(`blob:${APP_ORIGIN}/`)) {
      event.preventDefault();
      return;
    }
    item.setSaveDialogOptions({ title: "Save export", defaultPath: item.getFilename() });
  });
}

const NETWORK_PROTOCOLS = new Set(["http:", "https:", "ws:", "wss:", "ftp:", "file:"]);

/**
 * Web content never reaches the network or the file system by URL: the renderer talks to
 * the core over its MessagePort only, and its own files come from app://. Requests the main
 * process makes itself (no webContents) are left alone. This backs up the CSP for anything
 * that slips past it. (No URL filter: every request is checked here, so no pattern syntax
 * can silently leave a scheme out.)
 */
export function blockWebContentNetwork(session: Session): void {
  session.webRequest.onBeforeRequest((details, callback) => {
    const fromWebContent = details.webContentsId !== undefined;
    callback({ cancel: fromWebContent && NETWORK_PROTOCOLS.has(protocolOf(details.url)) });
  });
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return "";
  }
}

/** A frame of the app's own page (false for a frame that is gone). */
function isAppFrame(frame: WebFrameMain | null | undefined): boolean {
  try {
    return frame != null && !frame.isDestroyed() && isAppUrl(frame.url);
  } catch {
    return false;
  }
}

// Electron tells the main process nothing about user gestures on navigations or window.open,
// so "the user clicked it" is approximated: the request must come from the app's own page
// (a strict CSP keeps foreign script out of it), and a burst of them opens one tab at most.
const EXTERNAL_OPEN_INTERVAL_MS = 1000;
let lastExternalOpen = 0;

/** Opens an https link in the user's browser; anything else is dropped. */
function openExternalLink(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (parsed.protocol !== "https:" || parsed.username !== "" || parsed.password !== "") return;
  const now = Date.now();
  if (now - lastExternalOpen < EXTERNAL_OPEN_INTERVAL_MS) return;
  lastExternalOpen = now;
  shell.openExternal(parsed.href).catch((error: unknown) => {
    console.error(`quanta: could not open ${parsed.href} in the browser:`, error);
  });
}

function guardWebContents(contents: WebContents): void {
  // The window never embeds other pages (webviewTag is off too).
  contents.on("will-attach-webview", (event) => event.preventDefault());

  // A main-frame navigation: stays inside app://quanta; an https link clicked in the app
  // goes to the browser instead.
  contents.on("will-navigate", (event) => {
    if (isAppUrl(event.url)) return;
    event.preventDefault();
    if (isAppFrame(event.initiator)) openExternalLink(event.url);
  });
  // Subframes (none are expected) may not leave the app either.
  contents.on("will-frame-navigate", (event) => {
    if (!event.isMainFrame && !isAppUrl(event.url)) event.preventDefault();
  });
  contents.on("will-redirect", (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });

  // window.open and target="_blank" links: never a new Electron window.
  contents.setWindowOpenHandler(({ url }) => {
    if (isAppUrl(contents.getURL())) openExternalLink(url);
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
