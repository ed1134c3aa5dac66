// The window's preload. It exposes nothing to the page (no contextBridge, no ipcRenderer);
// it only passes on the MessagePort the main process sends on "quanta:port", so the page
// can talk to the core (renderer/src/lib/api/transport.ts receives it).
// CommonJS because sandboxed preloads cannot be ES modules, and self-contained because they
// can require only "electron" and a few Node built-ins: the two constants below repeat
// PORT_MESSAGE (transport.ts) and APP_ORIGIN (protocol-path.ts).

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module (.cts): import-equals is how TypeScript writes its require
import electron = require("electron");

const PORT_MESSAGE = "quanta:port";
const APP_ORIGIN = "app://quanta";

/** The few members of the isolated world's window used here (no DOM lib in this project). */
interface PreloadWindow {
  location: { origin: string };
  postMessage(message: unknown, targetOrigin: string, transfer: unknown[]): void;
}

const page = globalThis as unknown as PreloadWindow;

electron.ipcRenderer.on(PORT_MESSAGE, (event) => {
  // tsc -b checks this line with Electron's types; ESLint's parser resolves `event` to an error type here.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- see above: a type-resolution gap, not an any
  const port = event.ports[0];
  // Only the app's own page gets the port; the targetOrigin makes the browser check it again.
  if (port === undefined || page.location.origin !== APP_ORIGIN) return;
  page.postMessage(PORT_MESSAGE, APP_ORIGIN, [port]);
});
