// The API server's one door to the engine: the generation queue shared with the chat (one
// engine, one queue, fair turns, stop by request id). The shape is the core's generation
// queue's; InterimGenerationQueue stands in for it where the core has none, and is the only
// thing to replace when it does.

import { QuantaError } from "../../contract/errors.js";
import { newId } from "../chats/chat-store.js";
import type { TokenLogprob } from "../../engine/api-protocol.js";
import type { EngineApi } from "../../engine/protocol.js";

/** Text since the last delta, with the reply's token count and the context in use so far. */
export interface GenerationDelta {
  text: string;
  generatedTokens: number;
  contextUsed: number;
  logprobs?: TokenLogprob[];
}

export interface GenerationJob<T> {
  owner: { kind: "api"; client: string } | { kind: "chat"; chatId: string };
  requestId?: string;
  /** Aborting it takes the job out of the queue, or stops its generation. */
  signal?: AbortSignal;
  onDelta?(delta: GenerationDelta): void;
  run(context: { requestId: string; engine: EngineApi }): Promise<T>;
}

export interface GenerationTicket<T> {
  requestId: string;
  /** Jobs ahead of it (0: it runs now). */
  position: number;
  done: Promise<T>;
}

export interface GenerationQueuePort {
  /** Throws QuantaError("busy") when the queue is full. */
  submit<T>(job: GenerationJob<T>): GenerationTicket<T>;
  stop(requestId: string): Promise<void>;
  readonly waiting: number;
}

export const MAX_WAITING = 16;

interface Queued {
  requestId: string;
  job: GenerationJob<unknown>;
  start(): void;
  cancel(error: QuantaError): void;
}

/** A FIFO with one job at a time, for the API's requests. */
export class InterimGenerationQueue implements GenerationQueuePort {
  private readonly queue: Queued[] = [];
  private running: Queued | null = null;

  constructor(private readonly engine: () => Promise<EngineApi>) {}

  get waiting(): number {
    return this.queue.length;
  }

  /** The engine's deltas, by request id (the core forwards those that are not the chat's). */
  routeDelta(requestId: string, delta: GenerationDelta): void {
    if (this.running?.requestId === requestId) this.running.job.onDelta?.(delta);
  }

  submit<T>(job: GenerationJob<T>): GenerationTicket<T> {
    if (this.queue.length >= MAX_WAITING) throw new QuantaError("busy", `${MAX_WAITING} requests are already waiting for the engine. Try again shortly.`);
    const requestId = job.requestId ?? newId();
    const position = this.queue.length + (this.running ? 1 : 0);
    const done = new Promise<T>((resolve, reject) => {
      const entry: Queued = {
        requestId,
        job: job as GenerationJob<unknown>,
        start: () => {
          const abort = () => void this.stop(requestId);
          job.signal?.addEventListener("abort", abort, { once: true });
          this.engine()
            .then((engine) => job.run({ requestId, engine }))
            .then(resolve, reject)
            .finally(() => {
              job.signal?.removeEventListener("abort", abort);
              this.running = null;
              this.next();
            });
        },
        cancel: reject,
      };
      if (job.signal?.aborted) {
        reject(new QuantaError("invalid_request", "The request was cancelled before it started."));
        return;
      }
      job.signal?.addEventListener(
        "abort",
        () => {
          const index = this.queue.indexOf(entry);
          if (index >= 0) {
            this.queue.splice(index, 1);
            entry.cancel(new QuantaError("invalid_request", "The request was cancelled while waiting."));
          }
        },
        { once: true },
      );
      this.queue.push(entry);
      this.next();
    });
    return { requestId, position, done };
  }

  async stop(requestId: string): Promise<void> {
    if (this.running?.requestId !== requestId) return;
    await (await this.engine()).stop({ requestId });
  }

  private next(): void {
    if (this.running) return;
    const entry = this.queue.shift();
    if (!entry) return;
    this.running = entry;
    entry.start();
  }
}
