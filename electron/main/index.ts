// The desktop app's main process: lifecycle only. It hardens Chromium, serves the renderer
// on app://, starts the core (plain Node, the engine in a utilityProcess) and hands each page
// load of the window a fresh MessagePort to the core.

import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  app,
  BrowserWindow,
  dialog,
  MessageChannelMain,
  session,
  shell,
  type MessagePortMain,
  type ProcessMetric,
  type WebContents,
} from "electron";
import type { ProcessReading } from "../contract/types.js";
import { createCore, type QuantaCore } from "../core/app-core.js";
import type { RpcChannel } from "../core/rpc-channel.js";
import { APP_FOLDER_NAME, resolveHome } from "../core/settings/paths.js";
import { utilityProcessEngine } from "./engine-process.js";
import { registerAppScheme, serveRenderer } from "./protocol.js";
import { isAppUrl } from "../common/app-origin.js";
import { blockWebContentNetwork, denyAllPermissions, guardAllWebContents, openLinkForCore } from "./security.js";
import { createMainWindow } from "./window.js";

const RENDERER_DIR = fileURLToPath(new URL("../../renderer/", import.meta.url));
const ENGINE_ENTRY = fileURLToPath(new URL("../engine/host.js", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./preload.cjs", import.meta.url));
/** The channel the preload listens on (repeated in preload.cts and renderer/src/lib/api/transport.ts). */
const PORT_MESSAGE = "quanta:port";
/** How long quitting waits for the core to stop the engine and flush before giving up. */
const DISPOSE_TIMEOUT_MS = 5000;

interface PortChannel extends RpcChannel {
  close(): void;
}

/** Main's end of a renderer's MessageChannel, in the shape the core serves. */
function portChannel(port: MessagePortMain): PortChannel {
  const closeListeners: (() => void)[] = [];
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };
  port.on("close", finish);
  return {
    post(data) {
      if (!closed) port.postMessage(data);
    },
    on(listener) {
      port.on("message", (event) => listener(event.data));
    },
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closeListeners.push(listener);
    },
    close() {
      port.close();
      finish();
    },
  };
}

/**
 * Connects every page load of contents to the core: a reload gets a new channel and the old
 * one is closed, so the core forgets the page that is gone. Only app:// pages get a port.
 */
function connectToCore(contents: WebContents, core: QuantaCore): void {
  let current: PortChannel | null = null;
  const disconnect = () => {
    current?.close();
    current = null;
  };
  contents.on("did-finish-load", () => {
    disconnect();
    if (!isAppUrl(contents.getURL())) return;
    const { port1, port2 } = new MessageChannelMain();
    current = portChannel(port1);
    core.connect(current);
    port1.start();
    contents.postMessage(PORT_MESSAGE, null, [port2]);
  });
  contents.on("render-process-gone", disconnect);
  contents.once("destroyed", disconnect);
}

/** Chromium's processes for the hardware monitor; the main process is the core, reported by the core. */
const METRIC_ROLES: Partial<Record<ProcessMetric["type"], ProcessReading["role"]>> = {
  Tab: "renderer",
  GPU: "gpu-process",
  Utility: "utility",
};

function appProcessReadings(): ProcessReading[] {
  return app.getAppMetrics().flatMap((metric) => {
    const role = METRIC_ROLES[metric.type];
    if (!role) return [];
    // percentCPUUsage is per cent of one core since the previous call; workingSetSize is in KB.
    return [{ role, pid: metric.pid, cpu: metric.cpu.percentCPUUsage / 100, rssBytes: metric.memory.workingSetSize * 1024 }];
  });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error("quanta: could not start:", message);
  dialog.showErrorBox("Quanta could not start", message);
  app.exit(1);
}

// One data folder for Quanta and for Chromium: QUANTA_HOME, else <appData>/Quanta (as in
// headless mode, whatever the package's name). The single-instance lock lives there too, so
// an instance with its own QUANTA_HOME (a test) runs beside the user's.
const home = resolveHome(path.join(app.getPath("appData"), APP_FOLDER_NAME));
app.setPath("userData", home);

if (!app.requestSingleInstanceLock()) {
  // The running instance gets "second-instance" and shows its window.
  app.quit();
} else {
  let core: QuantaCore | null = null;
  let window: BrowserWindow | null = null;

  const openWindow = (readyCore: QuantaCore): void => {
    const created = createMainWindow(PRELOAD);
    connectToCore(created.webContents, readyCore);
    created.on("closed", () => {
      if (window === created) window = null;
    });
    window = created;
  };

  app.enableSandbox();
  registerAppScheme();
  guardAllWebContents();

  app.on("second-instance", () => {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    } else if (core) {
      openWindow(core);
    }
  });

  app
    .whenReady()
    .then(async () => {
      const defaultSession = session.defaultSession;
      denyAllPermissions(defaultSession);
      blockWebContentNetwork(defaultSession);
      serveRenderer(defaultSession, RENDERER_DIR);
      core = await createCore({
        shell: "desktop",
        home,
        version: app.getVersion(),
        spawnEngine: utilityProcessEngine(ENGINE_ENTRY),
        processMetrics: appProcessReadings,
        // Model import: the main process opens the dialog itself; the renderer never hands a path.
        pickModelFiles: async () => {
          const result = await dialog.showOpenDialog({
            properties: ["openFile", "multiSelections"],
            filters: [{ name: "GGUF", extensions: ["gguf"] }],
          });
          return result.canceled ? [] : result.filePaths;
        },
        revealPath: (file) => shell.showItemInFolder(file),
        // The core has checked the URL is https; the shell's one link gate (security.ts) throttles.
        openExternal: openLinkForCore,
      });
      openWindow(core);
    })
    .catch(fail);

  // macOS keeps the app running with no window; the Dock icon opens a new one.
  app.on("activate", () => {
    if (core && BrowserWindow.getAllWindows().length === 0) openWindow(core);
  });
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });

  // Quitting waits (a bounded time) for the core to stop the engine and finish its writes.
  let disposed = false;
  let disposing = false;
  app.on("will-quit", (event) => {
    if (!core || disposed) return;
    event.preventDefault();
    if (disposing) return;
    disposing = true;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, DISPOSE_TIMEOUT_MS).unref());
    Promise.race([core.dispose(), timeout])
      .catch((error: unknown) => console.error("quanta: error while shutting down:", error))
      .finally(() => {
        disposed = true;
        app.quit();
      });
  });
}
