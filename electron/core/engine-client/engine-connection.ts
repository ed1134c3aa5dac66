// Starting an engine process and speaking to it: spawn, the validated birpc channel, the
// wait for its "ready" (bounded), and its exit failing every call in flight. The chat's
// engine client and the lab's engines both start theirs here.

import { createBirpc, type BirpcReturn } from "birpc";
import { QuantaError } from "../../contract/errors.js";
import { validatingResolver, type ArgumentSchemas } from "../../contract/validation.js";
import { decodeRpcMessage, encodeRpcMessage } from "../../contract/wire.js";
import type { EngineEvents } from "../../engine/protocol.js";
import type { EngineExit, EngineProcess, EngineRole, SpawnEngine } from "./engine-process.js";

const START_TIMEOUT_MS = 30_000;

export interface ConnectEngineOptions<Events extends EngineEvents> {
  spawn: SpawnEngine;
  role: EngineRole;
  /** The engine's events other than "ready", which the connection answers itself. */
  handlers: Omit<Events, "ready">;
  /** The schemas of every event the engine may send ("ready" included). */
  eventSchemas: ArgumentSchemas;
  /** Names the process in the timeout error, e.g. "The engine process". */
  name: string;
  timeoutMs?: number;
  /** The error the calls in flight fail with when the process exits. */
  exitError(exit: EngineExit): QuantaError;
  /** Called when the engine says it is ready, before `ready` resolves. */
  onReady?(): void;
  /** Called once the process has exited (after the calls in flight were failed). */
  onExit?(exit: EngineExit, error: QuantaError): void;
}

export interface EngineConnection<Api extends object, Events extends object> {
  readonly process: EngineProcess;
  readonly rpc: BirpcReturn<Api, Events>;
  /** Resolves when the engine says it is ready; rejects if it exits or is silent too long first. */
  readonly ready: Promise<void>;
}

/** "it was ended by signal SIGKILL", "it exited with code 1". */
export function describeExit(exit: EngineExit): string {
  if (exit.signal) return `it was ended by signal ${exit.signal}`;
  return `it exited with code ${exit.code ?? "unknown"}`;
}

export function connectEngine<Api extends object, Events extends EngineEvents>(
  options: ConnectEngineOptions<Events>,
): EngineConnection<Api, Events> {
  const child = options.spawn(options.role);
  let settle!: { resolve(): void; reject(error: QuantaError): void };
  const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let settled = false;
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    settle.reject(new QuantaError("engine_unavailable", `${options.name} did not start within ${Math.round(timeoutMs / 1000)} seconds.`));
    child.kill();
  }, timeoutMs);

  const ready = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    options.onReady?.();
    settle.resolve();
  };
  // Every event of Events: the caller's, and "ready" (TypeScript cannot see that the two make Events).
  const handlers = { ...options.handlers, ready } as unknown as Events;
  const rpc = createBirpc<Api, Events>(handlers, {
    post: (message) => child.send(encodeRpcMessage(message)),
    on: (listener) => child.onMessage((message) => listener(decodeRpcMessage(message))),
    resolver: validatingResolver(options.eventSchemas),
    timeout: -1,
  });

  child.onExit((exit) => {
    clearTimeout(timer);
    const error = options.exitError(exit);
    rpc.$close(error);
    if (!settled) {
      settled = true;
      settle.reject(error);
    }
    options.onExit?.(exit, error);
  });
  return { process: child, rpc, ready: started };
}
