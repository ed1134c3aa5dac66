// The one app window: isolated, sandboxed, no Node, loading the renderer from app://.
// Navigation, new windows and <webview> are guarded for every webContents in security.ts.

import { app, BrowserWindow } from "electron";
import { APP_ENTRY_URL } from "../common/app-origin.js";

export const WINDOW_TITLE = "Quanta";

export function createMainWindow(preloadPath: string): BrowserWindow {
  const window = new BrowserWindow({
    title: WINDOW_TITLE,
    width: 1280,
    height: 860,
    minWidth: 720,
    minHeight: 520,
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  // The window keeps the product name whatever the page's <title> says.
  window.on("page-title-updated", (event) => event.preventDefault());
  window.once("ready-to-show", () => window.show());
  window.loadURL(APP_ENTRY_URL).catch((error: unknown) => {
    console.error("quanta: the window could not load the app:", error);
  });
  return window;
}
