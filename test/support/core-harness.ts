// Starts a real core (with a real engine process) on a temporary data folder, and waits for
// the events it emits, as a renderer would see them.

import { promises as fs } from "node:fs";
import path from "node:path";
import { createCore, type CoreOptions, type QuantaCore } from "../../electron/core/app-core.js";
import { forkEngine } from "../../electron/core/engine-client/engine-process.js";
import type { CoreEvent, EngineState } from "../../electron/contract/types.js";
import { ENGINE_ENTRY, tempDir } from "./paths.js";

export interface CoreHarness {
  core: QuantaCore;
  home: string;
  events: CoreEvent[];
  waitFor<T extends CoreEvent>(predicate: (event: CoreEvent) => event is T, timeoutMs?: number): Promise<T>;
  waitForEngine(kind: EngineState["kind"], timeoutMs?: number): Promise<EngineState>;
  close(): Promise<void>;
}

export async function startCore(
  modelFolders: string[],
  overrides: Partial<Pick<CoreOptions, "sampling" | "contextSize" | "checkpointMs">> & {
    /** A data folder of the caller's (kept by close()); default: a new temporary one, removed by close(). */
    home?: string;
  } = {},
): Promise<CoreHarness> {
  const { home: givenHome, ...coreOverrides } = overrides;
  const home = givenHome ?? (await tempDir("home"));
  const previous = process.env.QUANTA_MODELS;
  process.env.QUANTA_MODELS = modelFolders.join(path.delimiter);
  let core: QuantaCore;
  try {
    core = await createCore({ shell: "headless", home, version: "test", spawnEngine: forkEngine(ENGINE_ENTRY), ...coreOverrides });
  } finally {
    if (previous === undefined) delete process.env.QUANTA_MODELS;
    else process.env.QUANTA_MODELS = previous;
  }

  const events: CoreEvent[] = [];
  const waiters = new Set<(event: CoreEvent) => void>();
  core.onEvent((event) => {
    events.push(event);
    for (const waiter of [...waiters]) waiter(event);
  });

  function waitFor<T extends CoreEvent>(predicate: (event: CoreEvent) => event is T, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event within ${timeoutMs} ms; last events: ${JSON.stringify(events.slice(-3))}`));
      }, timeoutMs);
      const check = (event: CoreEvent) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(event);
      };
      waiters.add(check);
    });
  }

  async function waitForEngine(kind: EngineState["kind"], timeoutMs = 60_000): Promise<EngineState> {
    const current = await core.api.getEngineState();
    if (current.kind === kind) return current;
    const event = await waitFor(
      (e): e is Extract<CoreEvent, { type: "engine" }> => e.type === "engine" && e.state.kind === kind,
      timeoutMs,
    );
    return event.state;
  }

  return {
    core,
    home,
    events,
    waitFor,
    waitForEngine,
    async close() {
      await core.dispose();
      if (givenHome === undefined) await fs.rm(home, { recursive: true, force: true });
    },
  };
}

export function isDone(chatId: string) {
  return (event: CoreEvent): event is Extract<CoreEvent, { type: "generation.done" }> =>
    event.type === "generation.done" && event.chatId === chatId;
}
