// The one queue in front of the one engine: every generation (a conversation's reply, a
// request to the local API) waits here for its turn, first come first served, and runs
// alone on the engine. Stopping goes by request id, whether the job waits or runs.

import { newId } from "../../common/ids.js";
import { QuantaError } from "../../contract/errors.js";
import type { EngineRpc } from "../engine-client/engine-client.js";

/** Who asked for a generation: a conversation, or a client of the local API. */
export type GenerationOwner = { kind: "chat"; chatId: string } | { kind: "api"; client: string };

/** What the engine reports as a reply grows: the new text, and the counts so far. */
export interface GenerationDelta {
  text: string;
  generatedTokens: number;
  contextUsed: number;
}

/** A job's turn on the engine. */
export interface GenerationTurn {
  requestId: string;
  engine: EngineRpc;
  /** Aborted when the job is stopped while it runs (the engine is told to stop as well). */
  signal: AbortSignal;
}

export interface GenerationJob<T> {
  owner: GenerationOwner;
  /** The engine's request id for this job; a new one by default. */
  requestId?: string;
  /**
   * Aborting it stops the job: one still waiting leaves the queue (its `done` rejects with
   * "cancelled"); one running has the engine stop it at once.
   */
  signal?: AbortSignal;
  /** The engine's deltas for this job's request id, while it runs. */
  onDelta?(delta: GenerationDelta): void;
  /** Called when it is this job's turn; the next job waits until it settles. */
  run(turn: GenerationTurn): Promise<T>;
}

export interface GenerationTicket<T> {
  requestId: string;
  /** Jobs ahead of this one (running or waiting); 0 when it runs at once. */
  position: number;
  /** What `run` returned; rejects with what it threw, or "cancelled" if stopped before its turn. */
  done: Promise<T>;
}

export interface GenerationQueueState {
  waiting: number;
  running: { requestId: string; owner: GenerationOwner } | null;
}

export interface GenerationQueueOptions {
  /** The engine's API, once it runs (the engine client starts it if need be). */
  engine: () => Promise<EngineRpc>;
  /** Jobs allowed to wait behind the running one; one more is refused with "busy". */
  maxWaiting: number;
}

interface Entry {
  requestId: string;
  job: GenerationJob<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Aborted by stop() once the job runs. */
  stopping: AbortController;
}

export class GenerationQueue {
  readonly #options: GenerationQueueOptions;
  readonly #waiting: Entry[] = [];
  #running: Entry | null = null;
  readonly #listeners = new Set<(state: GenerationQueueState) => void>();
  #closed: QuantaError | null = null;

  constructor(options: GenerationQueueOptions) {
    this.#options = options;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): GenerationQueueState["running"] {
    const running = this.#running;
    return running ? { requestId: running.requestId, owner: running.job.owner } : null;
  }

  /** No room for another job to wait: submit() would refuse it. */
  get full(): boolean {
    return this.#waiting.length >= this.#options.maxWaiting;
  }

  /** Queues a job; throws "busy" when `maxWaiting` jobs already wait. */
  submit<T>(job: GenerationJob<T>): GenerationTicket<T> {
    if (this.#closed) throw this.#closed;
    if (this.full) {
      throw new QuantaError("busy", `${this.#waiting.length} requests are already waiting for the engine. Try again shortly.`);
    }
    const requestId = job.requestId ?? newId();
    if (this.#running?.requestId === requestId || this.#waiting.some((entry) => entry.requestId === requestId)) {
      throw new QuantaError("invalid_request", `Request ${requestId} is already queued.`);
    }
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<T>((res, rej) => {
      resolve = res as (value: unknown) => void;
      reject = rej;
    });
    const entry: Entry = { requestId, job, resolve, reject, stopping: new AbortController() };
    const position = this.#waiting.length + (this.#running ? 1 : 0);
    this.#waiting.push(entry);
    if (job.signal) {
      const { signal } = job;
      if (signal.aborted) void this.stop(requestId);
      else signal.addEventListener("abort", () => void this.stop(requestId).catch(() => undefined), { once: true });
    }
    this.#changed();
    this.#next();
    return { requestId, position, done };
  }

  /** Stops a job: one waiting leaves the queue, the running one is stopped by the engine. */
  async stop(requestId: string): Promise<void> {
    const index = this.#waiting.findIndex((entry) => entry.requestId === requestId);
    if (index >= 0) {
      const [entry] = this.#waiting.splice(index, 1);
      entry?.reject(new QuantaError("cancelled", "Stopped before its turn on the engine."));
      this.#changed();
      return;
    }
    const running = this.#running;
    if (running?.requestId !== requestId) return;
    running.stopping.abort();
    const engine = await this.#options.engine();
    await engine.stop({ requestId });
  }

  /** The engine client's delta event: handed to the running job it belongs to. */
  routeDelta(requestId: string, delta: GenerationDelta): void {
    const running = this.#running;
    if (running?.requestId === requestId) running.job.onDelta?.(delta);
  }

  /** Called with the queue's state whenever a job joins, starts, leaves or ends. */
  onChange(listener: (state: GenerationQueueState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Refuses new jobs and fails the waiting ones (the running one ends with the engine). */
  close(reason: QuantaError): void {
    this.#closed = reason;
    for (const entry of this.#waiting.splice(0)) entry.reject(reason);
    this.#changed();
  }

  #next(): void {
    if (this.#running) return;
    const entry = this.#waiting.shift();
    if (!entry) return;
    this.#running = entry;
    this.#changed();
    void this.#run(entry);
  }

  async #run(entry: Entry): Promise<void> {
    try {
      const engine = await this.#options.engine();
      // Stopped while the engine was being reached: it never got to the engine.
      if (entry.stopping.signal.aborted) throw new QuantaError("cancelled", "Stopped before its turn on the engine.");
      entry.resolve(await entry.job.run({ requestId: entry.requestId, engine, signal: entry.stopping.signal }));
    } catch (error) {
      entry.reject(error);
    } finally {
      this.#running = null;
      this.#changed();
      this.#next();
    }
  }

  #changed(): void {
    const state: GenerationQueueState = { waiting: this.waiting, running: this.running };
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch {
        // A listener's failure is its own; the queue keeps its turns.
      }
    }
  }
}
