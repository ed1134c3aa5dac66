// The core's handle on the engine process: starts it, speaks EngineApi to it, validates what
// it sends back, and starts a new one when it dies. A dead engine fails the calls in flight
// with "engine_crashed"; it never takes the core down.

import type { BirpcReturn } from "birpc";
import { QuantaError } from "../../contract/errors.js";
import { engineEventSchemas, type EngineApi, type EngineEvents, type PromptUsage, type TokenLogprob } from "../../engine/protocol.js";
import { connectEngine, describeExit } from "./engine-connection.js";
import type { EngineProcess, SpawnEngine } from "./engine-process.js";

export interface EngineClientEvents {
  loadProgress(progress: number, phase: "loading" | "calibrating"): void;
  delta(
    requestId: string,
    text: string,
    progress: { generatedTokens: number; contextUsed: number; logprobs?: TokenLogprob[]; prompt?: PromptUsage },
  ): void;
  /** The engine died; a new one is being started. */
  crashed(error: QuantaError): void;
  /** A (new) engine process is up and idle. */
  started(): void;
}

/** The engine's API as the core calls it. */
export type EngineRpc = BirpcReturn<EngineApi, EngineEvents>;

const RESTART_DELAYS_MS = [100, 500, 2000, 5000];

export class EngineClient {
  private child: EngineProcess | null = null;
  private rpc: EngineRpc | null = null;
  private ready: Promise<void> | null = null;
  private restarts = 0;
  private disposed = false;
  private stableTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly spawn: SpawnEngine,
    private readonly events: EngineClientEvents,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the engine process if none is running, and resolves once it has said it is ready. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new QuantaError("engine_unavailable", "Quanta is shutting down."));
    this.ready ??= this.launch();
    return this.ready;
  }

  /** The engine's API, once it runs. */
  async api(): Promise<EngineRpc> {
    await this.start();
    if (!this.rpc) throw new QuantaError("engine_unavailable", "The engine is not running.");
    return this.rpc;
  }

  dispose(): Promise<void> {
    this.disposed = true;
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.rpc?.$close(new QuantaError("engine_unavailable", "Quanta is shutting down."));
    this.child?.kill();
    this.child = null;
    this.rpc = null;
    return Promise.resolve();
  }

  private launch(): Promise<void> {
    const connection = connectEngine<EngineApi, EngineEvents>({
      spawn: this.spawn,
      role: "chat",
      name: "The engine process",
      eventSchemas: engineEventSchemas,
      handlers: {
        loadProgress: ({ progress, phase }) => this.events.loadProgress(progress, phase),
        delta: ({ requestId, text, generatedTokens, contextUsed, logprobs, prompt }) =>
          this.events.delta(requestId, text, {
            generatedTokens,
            contextUsed,
            ...(logprobs ? { logprobs } : {}),
            ...(prompt ? { prompt } : {}),
          }),
      },
      exitError: (exit) =>
        new QuantaError(
          "engine_crashed",
          `The engine stopped unexpectedly (${describeExit(exit)}). Quanta is starting it again; your chats are safe.`,
        ),
      onReady: () => {
        // An engine that stays up for a minute has recovered; start counting restarts anew.
        this.stableTimer = setTimeout(() => (this.restarts = 0), 60_000);
        this.events.started();
      },
      onExit: (_exit, error) => {
        if (this.stableTimer) clearTimeout(this.stableTimer);
        if (this.child === connection.process) {
          this.child = null;
          this.rpc = null;
          this.ready = null;
        }
        if (this.disposed) return;
        this.events.crashed(error);
        this.scheduleRestart();
      },
    });
    this.child = connection.process;
    this.rpc = connection.rpc;
    return connection.ready;
  }

  private scheduleRestart(): void {
    const delay = RESTART_DELAYS_MS[Math.min(this.restarts, RESTART_DELAYS_MS.length - 1)] ?? 5000;
    this.restarts += 1;
    setTimeout(() => {
      if (this.disposed || this.ready) return;
      this.start().catch(() => undefined);
    }, delay).unref();
  }
}
