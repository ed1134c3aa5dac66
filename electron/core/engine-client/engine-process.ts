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

/** Which engine a process is: the chat's (the loaded model: chat replies, the API, embeddings) or one of the Lab's. */
export type EngineRole = "chat" | "lab";

export type SpawnEngine = (role: EngineRole) => EngineProcess;

/**
 * The environment an engine starts with. The chat's engine gets one libuv thread-pool thread
 * unless UV_THREADPOOL_SIZE is set already. node-llama-cpp decodes and samples on that pool,
 * and with its four threads each token's decode ran on whichever one was free: with two
 * compute threads on two cores, generation ran at half the speed it reaches when every decode
 * comes from the same thread (docs/PERFORMANCE.md). The chat's engine does one thing at a
 * time anyway (a load, a reply, an embedding). The Lab's engines write files while they
 * decode, so they keep libuv's default.
 */
export function engineEnvironment(role: EngineRole, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (role !== "chat" || base.UV_THREADPOOL_SIZE !== undefined) return base;
  return { ...base, UV_THREADPOOL_SIZE: "1" };
}

/** Starts the engine as a plain Node child process (headless mode, CLI, tests). */
export function forkEngine(entry: string, env: NodeJS.ProcessEnv = process.env): SpawnEngine {
  return (role) => {
    const child = fork(entry, [], {
      env: engineEnvironment(role, env),
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
