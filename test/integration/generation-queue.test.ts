// The generation queue in front of a real engine process with the tiny random Llama (whose
// replies run until stopped or capped): first come first served, one engine call at a
// time, deltas to the job they belong to, stop by request id whether waiting or running,
// and a bounded number of jobs waiting.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLING_PRESETS } from "../../electron/contract/chat-settings.js";
import { QuantaError } from "../../electron/contract/errors.js";
import { EngineClient } from "../../electron/core/engine-client/engine-client.js";
import { forkEngine } from "../../electron/core/engine-client/engine-process.js";
import {
  GenerationQueue,
  type GenerationJob,
  type GenerationQueueState,
  type GenerationTurn,
} from "../../electron/core/generation/generation-queue.js";
import type { EngineGenerationResult } from "../../electron/engine/protocol.js";
import { ENGINE_ENTRY, TINY_RANDOM_MODEL } from "../support/paths.js";

let queue: GenerationQueue;
const deltaRoutes: { requestId: string; text: string }[] = [];
const engine = new EngineClient(forkEngine(ENGINE_ENTRY), {
  loadProgress: () => undefined,
  delta: (requestId, text, progress) => {
    deltaRoutes.push({ requestId, text });
    queue.routeDelta(requestId, { text, ...progress });
  },
  crashed: () => undefined,
  started: () => undefined,
});

beforeAll(async () => {
  const rpc = await engine.api();
  await rpc.loadModel({ path: TINY_RANDOM_MODEL, contextSize: 512, threads: 1, gpuLayers: 0 });
});

afterAll(async () => {
  await engine.dispose();
});

function generate(turn: GenerationTurn, maxTokens: number): Promise<EngineGenerationResult> {
  return turn.engine.generate({
    requestId: turn.requestId,
    messages: [{ role: "user", text: "Tell me a story." }],
    sampling: { ...SAMPLING_PRESETS.balanced, seed: 1, maxTokens },
    chatTemplate: null,
  });
}

async function rejection(promise: Promise<unknown>): Promise<QuantaError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(QuantaError);
    return error as QuantaError;
  }
  throw new Error("expected the job to fail");
}

/** A job for a chat that records when its turn starts and ends. */
function recordedJob(name: string, log: string[], maxTokens: number, deltas: string[] = []): GenerationJob<EngineGenerationResult> {
  return {
    owner: { kind: "chat", chatId: name },
    onDelta: (delta) => deltas.push(delta.text),
    run: async (turn) => {
      log.push(`${name} start`);
      try {
        return await generate(turn, maxTokens);
      } finally {
        log.push(`${name} end`);
      }
    },
  };
}

describe("the generation queue on a real engine", () => {
  it("runs jobs one at a time in the order they came, each getting only its own deltas", async () => {
    queue = new GenerationQueue({ engine: () => engine.api(), maxWaiting: 8 });
    const states: GenerationQueueState[] = [];
    const unsubscribe = queue.onChange((state) => states.push(state));
    const log: string[] = [];
    const deltas: string[][] = [[], [], []];
    const tickets = ["a", "b", "c"].map((name, index) => queue.submit(recordedJob(name, log, 12, deltas[index])));
    expect(tickets.map((ticket) => ticket.position)).toEqual([0, 1, 2]);
    expect(new Set(tickets.map((ticket) => ticket.requestId)).size).toBe(3);
    expect(queue.running?.requestId).toBe(tickets[0]?.requestId);
    expect(queue.waiting).toBe(2);

    const results = await Promise.all(tickets.map((ticket) => ticket.done));
    unsubscribe();
    expect(log).toEqual(["a start", "a end", "b start", "b end", "c start", "c end"]);
    results.forEach((result, index) => {
      expect(result.stats.generatedTokens).toBeGreaterThan(0);
      expect(deltas[index]?.join("")).toBe(result.text);
    });
    // Every delta the engine sent belonged to one of the three requests.
    const ids = new Set(tickets.map((ticket) => ticket.requestId));
    expect(deltaRoutes.every((route) => ids.has(route.requestId))).toBe(true);
    expect(queue.running).toBeNull();
    expect(queue.waiting).toBe(0);
    expect(states.at(-1)).toEqual({ waiting: 0, running: null });
    expect(states.map((state) => state.running?.owner)).toContainEqual({ kind: "chat", chatId: "b" });
  });

  it("stops a waiting job without running it, and a running one through the engine, by request id", async () => {
    queue = new GenerationQueue({ engine: () => engine.api(), maxWaiting: 8 });
    const log: string[] = [];
    let started!: () => void;
    const firstDelta = new Promise<void>((resolve) => (started = resolve));
    const running = queue.submit({ ...recordedJob("long", log, 100_000), onDelta: () => started() });
    const waiting = queue.submit(recordedJob("waiting", log, 8));
    const after = queue.submit(recordedJob("after", log, 8));

    await queue.stop(waiting.requestId);
    const cancelled = await rejection(waiting.done);
    expect(cancelled.code).toBe("cancelled");
    expect(queue.waiting).toBe(1);

    await firstDelta;
    await queue.stop(running.requestId);
    const stopped = await running.done;
    expect(stopped.stats.stopReason).toBe("stopped");
    await after.done;
    expect(log).toEqual(["long start", "long end", "after start", "after end"]);
  });

  it("stops a job when its owner's signal is aborted, waiting or running", async () => {
    queue = new GenerationQueue({ engine: () => engine.api(), maxWaiting: 8 });
    const log: string[] = [];
    const runningAbort = new AbortController();
    const waitingAbort = new AbortController();
    let started!: () => void;
    const firstDelta = new Promise<void>((resolve) => (started = resolve));
    const running = queue.submit({ ...recordedJob("long", log, 100_000), signal: runningAbort.signal, onDelta: () => started() });
    const waiting = queue.submit({ ...recordedJob("waiting", log, 8), signal: waitingAbort.signal });
    waitingAbort.abort();
    expect((await rejection(waiting.done)).code).toBe("cancelled");
    await firstDelta;
    runningAbort.abort();
    expect((await running.done).stats.stopReason).toBe("stopped");
    expect(log).toEqual(["long start", "long end"]);
  });

  it("refuses a job past the waiting limit with busy, and keeps its turns after a job fails", async () => {
    queue = new GenerationQueue({ engine: () => engine.api(), maxWaiting: 1 });
    const log: string[] = [];
    const failing = queue.submit<never>({
      owner: { kind: "api", client: "test" },
      run: () => {
        log.push("failing start");
        return Promise.reject(new QuantaError("generation_failed", "This job fails on purpose."));
      },
    });
    const next = queue.submit(recordedJob("next", log, 8));
    let refused: unknown = null;
    try {
      queue.submit(recordedJob("one too many", log, 8));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(QuantaError);
    expect((refused as QuantaError).code).toBe("busy");
    expect((await rejection(failing.done)).code).toBe("generation_failed");
    expect((await next.done).stats.generatedTokens).toBeGreaterThan(0);
    expect(log).toEqual(["failing start", "next start", "next end"]);
  });

  it("hands a running job's stop to the engine even before the job has called it", async () => {
    queue = new GenerationQueue({ engine: () => engine.api(), maxWaiting: 8 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ticket = queue.submit({
      owner: { kind: "api", client: "test" },
      run: async (turn) => {
        await gate;
        // The job sees it was stopped and does not start the engine on it.
        if (turn.signal.aborted) throw new QuantaError("cancelled", "Stopped before it began.");
        return generate(turn, 8);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.running?.requestId).toBe(ticket.requestId);
    await queue.stop(ticket.requestId);
    release();
    expect((await rejection(ticket.done)).code).toBe("cancelled");
    expect(queue.running).toBeNull();
  });
});
