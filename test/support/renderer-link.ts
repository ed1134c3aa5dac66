// A renderer connected to a core the way `quanta serve` connects a browser: birpc on both
// ends of a channel that carries JSON text, so per-connection behaviour (hardware watching)
// and everything that crosses the wire are tested through the real connect().

import { createBirpc, type BirpcReturn } from "birpc";
import type { CoreApi, RendererApi } from "../../electron/contract/api.js";
import type { CoreEvent } from "../../electron/contract/types.js";
import { decodeRpcText, encodeRpcText } from "../../electron/contract/wire.js";
import type { QuantaCore } from "../../electron/core/app-core.js";

export interface RendererLink {
  api: BirpcReturn<CoreApi, RendererApi>;
  events: CoreEvent[];
  waitFor<T extends CoreEvent>(predicate: (event: CoreEvent) => event is T, timeoutMs?: number): Promise<T>;
  /** Closes the channel, as a closed tab or a reloaded page does. */
  close(): void;
}

export function connectRenderer(core: QuantaCore): RendererLink {
  let toCore: ((data: unknown) => void) | null = null;
  let toRenderer: ((data: unknown) => void) | null = null;
  const closeListeners: (() => void)[] = [];
  let closed = false;

  // The core's end: what the headless server does with a WebSocket (JSON text each way).
  core.connect({
    post: (data) => {
      if (closed) return;
      const text = JSON.stringify(data);
      setImmediate(() => toRenderer?.(text));
    },
    on: (listener) => {
      toCore = listener;
    },
    onClose: (listener) => closeListeners.push(listener),
  });

  const events: CoreEvent[] = [];
  const waiters = new Set<(event: CoreEvent) => void>();
  const handlers: RendererApi = {
    event(event) {
      events.push(event);
      for (const waiter of [...waiters]) waiter(event);
    },
  };
  const api = createBirpc<CoreApi, RendererApi>(handlers, {
    post: (text) => {
      if (closed) return;
      setImmediate(() => toCore?.(JSON.parse(text as string)));
    },
    on: (listener) => {
      toRenderer = listener;
    },
    serialize: encodeRpcText,
    deserialize: decodeRpcText,
    timeout: 60_000,
  });

  function waitFor<T extends CoreEvent>(predicate: (event: CoreEvent) => event is T, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event within ${timeoutMs} ms; last events: ${JSON.stringify(events.slice(-2)).slice(0, 2000)}`));
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

  return {
    api,
    events,
    waitFor,
    close() {
      if (closed) return;
      closed = true;
      api.$close();
      for (const listener of closeListeners) listener();
    },
  };
}
