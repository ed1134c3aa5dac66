// How the core starts the engine process. The desktop app passes an Electron utilityProcess
// launcher, headless mode and tests pass forkEngine; the core never knows which.

import { fork } from "node:child_process";

export interface EngineExit {
  code: number | null;
  signal: string | null;
}

export interface EngineProcess {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (exit: EngineExit) => void): void;
  kill(): void;
}

export type SpawnEngine = () => EngineProcess;

/** Starts the engine as a plain Node child process (headless mode, CLI, tests). */
export function forkEngine(entry: string, env: NodeJS.ProcessEnv = process.env): SpawnEngine {
  return () => {
    const child = fork(entry, [], {
      env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (child.connected) child.send(message as object);
      },
      onMessage(listener) {
        child.on("message", listener);
      },
      onExit(listener) {
        child.once("exit", (code, signal) => listener({ code, signal }));
      },
      kill() {
        child.kill("SIGKILL");
      },
    };
  };
}
