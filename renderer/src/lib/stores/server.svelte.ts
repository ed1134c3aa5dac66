// Owns the local API server's state as the core reports it: settings, running or not (and
// why not), the live request log. Talks to lib/api: getApiServer on (re)connect, the start,
// stop and configure calls, and the core's "api.status" and "api.request" events.

import {
  api,
  onCoreEvent,
  type ApiRequestLogEntry,
  type ApiServerSettings,
  type ApiServerState,
  type ApiServerStatus,
} from "../api/index.js";
import { notices } from "./notices.svelte.js";

/** The newest requests the view keeps (the core keeps as many). */
const LOG_LIMIT = 200;

class ServerStore {
  settings = $state.raw<ApiServerSettings | null>(null);
  status = $state.raw<ApiServerStatus>({ running: false, baseUrl: null, error: null, waiting: 0 });
  /** Newest last. */
  log = $state.raw<ApiRequestLogEntry[]>([]);
  busy = $state(false);

  constructor() {
    onCoreEvent((event) => {
      if (event.type === "api.status") this.status = event.status;
      else if (event.type === "api.request") this.#upsert(event.entry);
    });
  }

  async resync(): Promise<void> {
    try {
      this.#apply(await api.getApiServer());
    } catch (error) {
      notices.report(error);
    }
  }

  start(): Promise<void> {
    return this.#run(() => api.startApiServer());
  }

  stop(): Promise<void> {
    return this.#run(() => api.stopApiServer());
  }

  configure(settings: Partial<Omit<ApiServerSettings, "apiKey">>): Promise<void> {
    return this.#run(() => api.configureApiServer({ settings }));
  }

  regenerateKey(): Promise<void> {
    return this.#run(() => api.regenerateApiKey());
  }

  async #run(call: () => Promise<ApiServerState>): Promise<void> {
    this.busy = true;
    try {
      this.#apply(await call());
    } catch (error) {
      // A port in use is shown in the view from the status; other failures as a notice too.
      await this.resync();
      notices.report(error);
    } finally {
      this.busy = false;
    }
  }

  #apply(state: ApiServerState): void {
    this.settings = state.settings;
    this.status = state.status;
    this.log = state.log.slice(-LOG_LIMIT);
  }

  #upsert(entry: ApiRequestLogEntry): void {
    const index = this.log.findIndex((existing) => existing.id === entry.id);
    if (index >= 0) this.log = this.log.map((existing, at) => (at === index ? entry : existing));
    else this.log = [...this.log, entry].slice(-LOG_LIMIT);
  }
}

export const server = new ServerStore();
