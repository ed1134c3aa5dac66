// Owns the open conversation: its messages, the reply being streamed, and the composer's
// draft (kept here so a failed send never loses what was typed). Talks to lib/api
// (listChats, getChat, createChat, sendMessage, stopGeneration) and to the core's
// "generation.delta" / "generation.done" events; reads the engine store to refuse a send
// when no model is loaded.
//
// The message list is $state.raw and replaced whole; stream deltas only append to
// `streamingText`, so a token does not re-render the list. The core batches deltas about
// once per animation frame, so no further batching happens here.

import { api, onCoreEvent, QuantaError, type Chat, type ChatMessage, type CoreEvent } from "../api/index.js";
import { engine } from "./engine.svelte.js";
import { notices } from "./notices.svelte.js";

class ChatStore {
  chatId = $state<string | null>(null);
  title = $state("");
  messages = $state.raw<ChatMessage[]>([]);
  /** The assistant message currently streaming in, if any. */
  streamingId = $state<string | null>(null);
  streamingText = $state("");
  draft = $state("");
  /** A sendMessage call is on its way (the user's message is not stored yet). */
  sending = $state(false);
  /** True while a newChat or a chat switch is under way. */
  switching = $state(false);

  generating = $derived(this.streamingId !== null);

  // The core may report a reply's first deltas, or even its end, before sendMessage's
  // answer tells us the reply's id; they wait here until it does.
  #earlyText = new Map<string, string>();
  #earlyDone = new Map<string, ChatMessage>();

  constructor() {
    onCoreEvent((event) => this.#onEvent(event));
  }

  /** On (re)connect: reopens the current chat, or the most recent one, or a new one. */
  async restore(): Promise<void> {
    const current = this.chatId;
    if (current !== null) {
      try {
        this.#show(await api.getChat({ chatId: current }));
        return;
      } catch (error) {
        if (!(error instanceof QuantaError && error.code === "not_found")) throw error;
      }
    }
    const chats = await api.listChats();
    const latest = chats.toSorted((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    this.#show(latest ? await api.getChat({ chatId: latest.id }) : await api.createChat());
  }

  async newChat(): Promise<void> {
    if (this.switching) return;
    this.switching = true;
    try {
      if (this.generating) await this.stop();
      this.#show(await api.createChat());
      notices.dismiss();
    } catch (error) {
      notices.report(error);
    } finally {
      this.switching = false;
    }
  }

  /** Sends the draft. On failure the text goes back into the composer. */
  async send(): Promise<void> {
    const text = this.draft;
    const chatId = this.chatId;
    if (text.trim() === "" || chatId === null || this.sending || this.generating) return;
    if (engine.state.kind !== "ready") {
      notices.hint(engine.state.kind === "loading" ? "chat.waitForModel" : "chat.loadModelFirst");
      return;
    }
    this.draft = "";
    this.sending = true;
    this.#earlyText.clear();
    this.#earlyDone.clear();
    notices.dismiss();
    try {
      const { userMessage, assistantMessageId } = await api.sendMessage({ chatId, text });
      if (this.chatId !== chatId) return;
      const done = this.#earlyDone.get(assistantMessageId);
      const reply: ChatMessage = done ?? {
        id: assistantMessageId,
        role: "assistant",
        text: "",
        createdAt: new Date().toISOString(),
        status: "streaming",
        modelId: engine.loadedModel?.modelId ?? null,
        stats: null,
        error: null,
      };
      this.messages = [...this.messages, userMessage, reply];
      if (!done) {
        this.streamingId = assistantMessageId;
        this.streamingText = this.#earlyText.get(assistantMessageId) ?? "";
      }
    } catch (error) {
      // Whatever was typed since goes after the restored text, so nothing is lost.
      this.draft = this.draft === "" ? text : `${text}\n${this.draft}`;
      notices.report(error);
    } finally {
      this.sending = false;
      this.#earlyText.clear();
      this.#earlyDone.clear();
    }
  }

  async stop(): Promise<void> {
    const chatId = this.chatId;
    if (chatId === null || !this.generating) return;
    try {
      await api.stopGeneration({ chatId });
    } catch (error) {
      notices.report(error);
    }
  }

  #show(chat: Chat): void {
    this.chatId = chat.id;
    this.title = chat.title;
    this.messages = chat.messages;
    // After a reconnect the reply may still be streaming: pick it up where the core is.
    const streaming = chat.messages.findLast((message) => message.status === "streaming");
    this.streamingId = streaming?.id ?? null;
    this.streamingText = streaming?.text ?? "";
  }

  #onEvent(event: CoreEvent): void {
    if (event.type === "generation.delta") {
      if (event.chatId !== this.chatId) return;
      if (event.messageId === this.streamingId) {
        this.streamingText += event.text;
      } else if (this.sending) {
        this.#earlyText.set(event.messageId, (this.#earlyText.get(event.messageId) ?? "") + event.text);
      }
    } else if (event.type === "generation.done") {
      if (event.chatId !== this.chatId) return;
      const { message } = event;
      const index = this.messages.findIndex((existing) => existing.id === message.id);
      if (index >= 0) {
        this.messages = this.messages.with(index, message);
      } else if (this.sending) {
        this.#earlyDone.set(message.id, message);
      } else {
        // A reply started elsewhere (another window on the same chat): reload to show it whole.
        void this.#reload();
      }
      if (this.streamingId === message.id) {
        this.streamingId = null;
        this.streamingText = "";
      }
    }
  }

  async #reload(): Promise<void> {
    const chatId = this.chatId;
    if (chatId === null) return;
    try {
      const chat = await api.getChat({ chatId });
      if (this.chatId === chatId) this.#show(chat);
    } catch (error) {
      notices.report(error);
    }
  }
}

export const chat = new ChatStore();
