// Owns what the whole window needs before any view: AppInfo, the state of the connection to
// the core, whether the first sync has finished, and which view is shown. Talks to lib/api
// (connection, getAppInfo) and, on every (re)connect, asks the other stores to fetch their
// state afresh: events sent while the connection was down are lost, so nothing is trusted
// from before.

import { api, onConnectionChange, reconnectNow, startConnection, transportKind, type AppInfo, type ConnectionState } from "../api/index.js";
import { chat } from "./chat.svelte.js";
import { engine } from "./engine.svelte.js";
import { lab } from "./lab.svelte.js";
import { models } from "./models.svelte.js";
import { monitor } from "./monitor.svelte.js";
import { notices } from "./notices.svelte.js";
import { server } from "./server.svelte.js";

export const VIEWS = ["chat", "models", "lab", "hardware", "server"] as const;
export type View = (typeof VIEWS)[number];

class AppStore {
  info = $state.raw<AppInfo | null>(null);
  connection = $state.raw<ConnectionState>({ kind: "connecting" });
  /** True once a full sync has succeeded; views wait for it before claiming anything. */
  ready = $state(false);
  readonly transport = transportKind;
  view = $state<View>("chat");

  connected = $derived(this.connection.kind === "open");

  #started = false;

  start(): void {
    if (this.#started) return;
    this.#started = true;
    onConnectionChange((state) => {
      this.connection = state;
      if (state.kind === "open") void this.#sync();
    });
    startConnection();
  }

  reconnect(): void {
    reconnectNow();
  }

  show(view: View): void {
    this.view = view;
  }

  async #sync(): Promise<void> {
    // The hardware monitor resyncs on its own: a core without it must not hold up the chat.
    void monitor.resync();
    void lab.resync();
    void server.resync();
    try {
      // Engine first: the model picker preselects the engine's model when the list arrives.
      const [info] = await Promise.all([api.getAppInfo(), engine.refresh()]);
      this.info = info;
      await Promise.all([models.refresh(), chat.restore()]);
      this.ready = true;
      // A call that failed while the connection was down is no longer news.
      if (notices.current?.kind === "error" && notices.current.key === "connection.lost") notices.dismiss();
    } catch (error) {
      notices.report(error);
    }
  }
}

export const app = new AppStore();
