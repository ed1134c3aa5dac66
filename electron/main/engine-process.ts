// Starts the engine in an Electron utilityProcess: a Node process Chromium supervises, so a
// native crash in llama.cpp ends the engine, not the app. The engine's end is
// process.parentPort (electron/engine/parent-channel.ts).

import { utilityProcess } from "electron";
import { engineEnvironment, type SpawnEngine } from "../core/engine-client/engine-process.js";

export function utilityProcessEngine(entry: string): SpawnEngine {
  return (role) => {
    const child = utilityProcess.fork(entry, [], {
      serviceName: role === "chat" ? "Quanta engine" : "Quanta Lab engine",
      stdio: "inherit",
      env: engineEnvironment(role),
    });
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        // Like forkEngine: a message to an engine that is gone is dropped; the core learns of
        // the exit from onExit.
        if (!exited) child.postMessage(message);
      },
      onMessage(listener) {
        child.on("message", listener);
      },
      onExit(listener) {
        // A utility process reports an exit code only; a fatal signal shows as a non-zero code.
        child.once("exit", (code) => listener({ code, signal: null }));
      },
      kill() {
        if (!exited) child.kill();
      },
    };
  };
}
