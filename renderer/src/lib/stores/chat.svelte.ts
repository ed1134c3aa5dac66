// Owns the open conversation: the branch of messages on show and which of them have other
// versions, its settings, the reply being streamed, and the composer's draft (kept here so a
// failed send never loses what was typed; each conversation's kept in the page's storage by
// stores/drafts.ts). Talks to lib/api (getChat, createChat, deleteChat, sendMessage,
// editMessage, regenerateReply, selectVersion, updateChatSettings, stopGeneration,
// openExternal) and to the core's "generation.started" / "generation.delta" /
// "generation.done" / "chats.changed" events (a conversation deleted in another tab is left,
// with what was being written in it); reads the engine store to refuse a send when no model is
// loaded.
//
// Every tab showing a conversation streams its reply, whichever tab (or none) sent it: a
// reply started elsewhere arrives as "generation.started" (the user's message and the reply)
// before its first delta. Leaving a conversation never stops its reply; the busy line and
// notices (stores/activity.svelte.ts) name the conversation and stop it from any tab.
//
// The message list is $state.raw and replaced whole; stream deltas only append to
// `streamingText`, so a token does not re-render the list. The core batches deltas about
// once per animation frame; here they are shown at a pace that slows as the reply grows
// (see STREAM_PACE), since each update costs the page work in proportion to the reply's
// length (layout of the growing text). `revision` counts changes the conversation list
// should pick up (titles, order).

import {
  api,
  DEFAULT_CHAT_SETTINGS,
  onCoreEvent,
  QuantaError,
  type Chat,
  type ChatMessage,
  type ChatSettings,
  type CoreEvent,
} from "../api/index.js";
import { activity } from "./activity.svelte.js";
import { drafts } from "./drafts.js";
import { engine } from "./engine.svelte.js";
import { notices } from "./notices.svelte.js";

/**
 * How often a streaming reply's new text is shown: right away while it is short, then every
 * length / charsPerMs ms, at most maxMs. The page's work per second then stays about the same
 * however long the reply gets, and leaves the CPU to the engine (a 2,000-token reply with the
 * chat in view once ran at 0.6 of raw llama.cpp speed on two cores).
 */
const STREAM_PACE = { charsPerMs: 40, maxMs: 250 } as const;

interface ReplyStart {
  userMessage?: ChatMessage;
  assistantMessageId: string;
}

class ChatStore {
  chatId = $state<string | null>(null);
  title = $state("");
  /** The chat file's own dates, as the core last reported them (exports carry them). */
  createdAt = $state("");
  updatedAt = $state("");
  messages = $state.raw<ChatMessage[]>([]);
  settings = $state.raw<ChatSettings>(DEFAULT_CHAT_SETTINGS);
  /** For messages on show with other versions: all the versions' ids, oldest first. */
  versions = $state.raw<Record<string, string[]>>({});
  /** The assistant message currently streaming in, if any. */
  streamingId = $state<string | null>(null);
  streamingText = $state("");
  /** The context in use as the reply streams (the core sends it with each batch of text); 0 when none. */
  streamingContextUsed = $state(0);
  #draft = $state("");
  /** The message being written in the open conversation; each conversation keeps its own (stores/drafts.ts). */
  get draft(): string {
    return this.#draft;
  }
  set draft(text: string) {
    this.#draft = text;
    if (this.chatId !== null) drafts.set(this.chatId, text);
  }
  /** A send (or edit, or regenerate) is on its way to the core. */
  sending = $state(false);
  /** True while a newChat or a chat switch is under way. */
  switching = $state(false);
  /** Bumped whenever the conversation list may have changed (a title, the order). */
  revision = $state(0);

  generating = $derived(this.streamingId !== null);

  // The core may report a reply's first deltas, or even its end, before the call's answer
  // tells us the reply's id; they wait here until it does.
  #earlyText = new Map<string, string>();
  #earlyDone = new Map<string, ChatMessage>();

  /** Streamed text not shown yet, and the context figure that came with it (STREAM_PACE). */
  #pendingText = "";
  #pendingContextUsed = 0;
  #paceTimer: ReturnType<typeof setTimeout> | null = null;

  #queueDelta(text: string, contextUsed: number): void {
    this.#pendingText += text;
    this.#pendingContextUsed = contextUsed;
    if (this.#paceTimer !== null) return;
    const delay = Math.min(STREAM_PACE.maxMs, Math.floor(this.streamingText.length / STREAM_PACE.charsPerMs));
    if (delay <= 0) this.#showPending();
    else
      this.#paceTimer = setTimeout(() => {
        this.#paceTimer = null;
        this.#showPending();
      }, delay);
  }

  #showPending(): void {
    if (this.#pendingText !== "") this.streamingText += this.#pendingText;
    this.#pendingText = "";
    this.streamingContextUsed = this.#pendingContextUsed;
  }

  #dropPending(): void {
    if (this.#paceTimer !== null) clearTimeout(this.#paceTimer);
    this.#paceTimer = null;
    this.#pendingText = "";
  }

  constructor() {
    onCoreEvent((event) => this.#onEvent(event));
  }

  /** On (re)connect: reopens the current chat, or the most recent one, or a new one. */
  async restore(): Promise<void> {
    const current = this.chatId;
    // The conversation list refetches too: it may have changed while the connection was down.
    this.revision += 1;
    // What the engine is busy with may have changed too (an error here must not keep the chat away).
    void activity.refresh().catch((error: unknown) => console.error("quanta:", error));
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

  /** Opens an empty conversation: this one or another still empty one when there is one, else a new one. */
  async newChat(): Promise<void> {
    const current = this.chatId;
    await this.#switchTo(async () => {
      // New chats that were never written in would otherwise pile up in the list.
      const empty = (await api.listChats()).filter((summary) => summary.messageCount === 0);
      const reuse = empty.find((summary) => summary.id === current) ?? empty[0];
      return reuse ? api.getChat({ chatId: reuse.id }) : api.createChat();
    });
  }

  async open(chatId: string): Promise<void> {
    if (chatId === this.chatId) return;
    await this.#switchTo(() => api.getChat({ chatId }));
  }

  /** The conversation this tab is deleting: the core's word that it is gone is no news here. */
  #deletingHere: string | null = null;

  /** Deletes a conversation from this tab; when it is the open one, the newest other (or a new one) opens. */
  async remove(chatId: string): Promise<void> {
    this.#deletingHere = chatId;
    try {
      await api.deleteChat({ chatId });
    } finally {
      this.#deletingHere = null;
    }
    if (this.chatId === chatId) {
      await this.#switchTo(async () => {
        const latest = (await api.listChats())[0];
        return latest ? api.getChat({ chatId: latest.id }) : api.createChat();
      });
    }
  }

  /**
   * The open conversation was deleted in another tab: an empty one opens, and what was being
   * written here goes into its composer, after anything already there.
   */
  async #leaveDeleted(chatId: string): Promise<void> {
    const writing = this.draft;
    await this.newChat();
    if (this.chatId === chatId) return;
    drafts.set(chatId, "");
    if (writing.trim() !== "") this.draft = this.draft === "" ? writing : `${this.draft}\n\n${writing}`;
    notices.hint("chat.deletedElsewhere");
  }

  async #switchTo(load: () => Promise<Chat>): Promise<void> {
    if (this.switching) return;
    this.switching = true;
    try {
      // Pending settings belong to the chat being left: save them before it goes.
      await this.flushSettings();
      // A reply being written goes on (other tabs may show it); the busy line says where it is.
      this.#show(await load());
      notices.dismiss();
      this.revision += 1;
    } catch (error) {
      notices.report(error);
    } finally {
      this.switching = false;
    }
  }

  #canStart(): boolean {
    if (this.chatId === null || this.sending || this.generating) return false;
    if (engine.state.kind !== "ready") {
      notices.hint(engine.state.kind === "loading" ? "chat.waitForModel" : "chat.loadModelFirst");
      return false;
    }
    return true;
  }

  /** Sends the draft. On failure the text goes back into the composer. */
  async send(): Promise<void> {
    const text = this.draft;
    const chatId = this.chatId;
    if (chatId === null) return;
    if (text.trim() === "") {
      notices.hint("chats.emptyMessage");
      return;
    }
    if (!this.#canStart()) return;
    this.draft = "";
    const parentId = this.messages.at(-1)?.id ?? null;
    const ok = await this.#startReply(chatId, parentId, () => api.sendMessage({ chatId, text }));
    if (ok) return;
    // Back into its own conversation's draft, before whatever was typed there since: nothing is lost.
    const since = this.chatId === chatId ? this.draft : drafts.get(chatId);
    const restored = since === "" ? text : `${text}\n${since}`;
    if (this.chatId === chatId) this.draft = restored;
    else drafts.set(chatId, restored);
  }

  /** A new version of one of the user's messages, answered afresh. */
  async edit(messageId: string, text: string): Promise<boolean> {
    const chatId = this.chatId;
    const original = this.messages.find((message) => message.id === messageId);
    if (chatId === null || !original) return false;
    if (text.trim() === "") {
      notices.hint("chats.emptyMessage");
      return false;
    }
    if (!this.#canStart()) return false;
    return this.#startReply(chatId, original.parentId ?? null, () => api.editMessage({ chatId, messageId, text }));
  }

  /** A new version of a reply, from the conversation before it. */
  async regenerate(messageId: string): Promise<void> {
    const chatId = this.chatId;
    const original = this.messages.find((message) => message.id === messageId);
    if (chatId === null || !original || !this.#canStart()) return;
    await this.#startReply(chatId, original.parentId ?? null, () => api.regenerateReply({ chatId, messageId }));
  }

  /**
   * Runs a call that starts a reply; on success shows the branch down to `parentId`, the
   * user's new message (if any) and the reply streaming in. False if the call failed.
   */
  async #startReply(chatId: string, parentId: string | null, call: () => Promise<ReplyStart>): Promise<boolean> {
    this.sending = true;
    this.#earlyText.clear();
    this.#earlyDone.clear();
    notices.dismiss();
    try {
      // Settings changed just before sending apply to this reply.
      await this.flushSettings();
      const { userMessage, assistantMessageId } = await call();
      if (this.chatId !== chatId) return true;
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
        parentId: userMessage?.id ?? parentId,
      };
      const keep = parentId === null ? 0 : this.messages.findIndex((message) => message.id === parentId) + 1;
      this.messages = [...this.messages.slice(0, keep), ...(userMessage ? [userMessage] : []), reply];
      if (!done) {
        this.streamingId = assistantMessageId;
        this.#dropPending();
        this.streamingText = this.#earlyText.get(assistantMessageId) ?? "";
      }
      this.revision += 1;
      return true;
    } catch (error) {
      notices.report(error);
      // Refused because a reply is on its way here (sent from another tab): show it streaming.
      if (error instanceof QuantaError && error.code === "busy" && this.chatId === chatId) void this.#reload();
      return false;
    } finally {
      this.sending = false;
      this.#earlyText.clear();
      this.#earlyDone.clear();
    }
  }

  /** Shows another version of a message (and the branch below it). */
  async selectVersion(messageId: string): Promise<void> {
    const chatId = this.chatId;
    if (chatId === null || this.generating) return;
    try {
      this.#show(await api.selectVersion({ chatId, messageId }));
    } catch (error) {
      notices.report(error);
    }
  }

  /**
   * Deletes one message with what followed it (the core's rule: a user message goes with its
   * replies and the turns after them), once the person confirmed. False if it failed.
   */
  async deleteMessage(messageId: string): Promise<boolean> {
    const chatId = this.chatId;
    if (chatId === null) return false;
    try {
      const { chat } = await api.deleteMessage({ chatId, messageId });
      if (this.chatId === chatId) this.#show(chat);
      this.revision += 1;
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /**
   * Settings as saved at `updatedAt`, unless a later save is already shown: a save's answer
   * and another tab's event may arrive in either order.
   */
  #takeSettings(settings: ChatSettings, updatedAt: string): void {
    if (updatedAt < this.updatedAt) return;
    this.settings = settings;
    this.updatedAt = updatedAt;
  }

  /** True from a change in the settings form until it is saved. */
  settingsSaving = $state(false);
  #settingsSaved: Promise<unknown> = Promise.resolve();
  #pendingSettings: { chatId: string; changes: Partial<ChatSettings> } | null = null;
  #settingsTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Saves the fields the form changed (a moment after the last keystroke), and only those, so
   * a field changed in another tab meanwhile stays as that tab saved it. Saves run one after
   * another, and a reply started meanwhile saves what is pending first, so what was typed is
   * what the reply uses.
   */
  applySettings(changes: Partial<ChatSettings>): void {
    if (this.chatId === null) return;
    this.#pendingSettings = { chatId: this.chatId, changes };
    this.settingsSaving = true;
    if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
    this.#settingsTimer = setTimeout(() => void this.flushSettings(), 300);
  }

  /** Saves any pending change now; resolves when every save so far is done. */
  flushSettings(): Promise<unknown> {
    if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
    this.#settingsTimer = null;
    const pending = this.#pendingSettings;
    this.#pendingSettings = null;
    if (pending) this.#settingsSaved = this.#settingsSaved.then(() => this.saveSettings(pending.changes, pending.chatId));
    const current = this.#settingsSaved;
    void current.then(() => {
      if (this.#settingsSaved === current && this.#pendingSettings === null) this.settingsSaving = false;
    });
    return current;
  }

  async saveSettings(changes: Partial<ChatSettings>, chatId = this.chatId): Promise<boolean> {
    if (chatId === null) return false;
    try {
      const chat = await api.updateChatSettings({ chatId, settings: changes });
      if (this.chatId === chatId) this.#takeSettings(chat.settings, chat.updatedAt);
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  /** The chat as shown, for exports. */
  snapshot(): Chat | null {
    if (this.chatId === null) return null;
    return {
      id: this.chatId,
      title: this.title,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      messages: $state.snapshot(this.messages),
      settings: $state.snapshot(this.settings),
      versions: $state.snapshot(this.versions),
    };
  }

  /** Every version of every message of the open chat, for the JSON export. */
  async allMessages(): Promise<ChatMessage[] | null> {
    const chatId = this.chatId;
    if (chatId === null) return null;
    try {
      return await api.listAllMessages({ chatId });
    } catch (error) {
      notices.report(error);
      return null;
    }
  }

  /** Links in replies: the core accepts https only; in a browser the page opens the tab itself. */
  async openLink(href: string): Promise<void> {
    try {
      const result = await api.openExternal({ url: href });
      if (!result.opened) window.open(result.url, "_blank", "noopener,noreferrer");
    } catch (error) {
      notices.report(error);
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
    this.#draft = drafts.get(chat.id);
    this.title = chat.title;
    this.createdAt = chat.createdAt;
    this.updatedAt = chat.updatedAt;
    this.messages = chat.messages;
    this.settings = chat.settings;
    this.versions = chat.versions;
    // After a reconnect the reply may still be streaming: pick it up where the core is.
    const streaming = chat.messages.findLast((message) => message.status === "streaming");
    this.streamingId = streaming?.id ?? null;
    this.#dropPending();
    this.streamingText = streaming?.text ?? "";
    this.streamingContextUsed = 0;
  }

  /** A reply started in this conversation by another tab (this tab's own arrive through #startReply). */
  #started(event: Extract<CoreEvent, { type: "generation.started" }>): void {
    const { userMessage, message } = event;
    if (event.chatId !== this.chatId || this.sending || this.streamingId === message.id) return;
    const parentId = userMessage ? (userMessage.parentId ?? null) : (message.parentId ?? null);
    const keep = parentId === null ? 0 : this.messages.findIndex((existing) => existing.id === parentId) + 1;
    if (parentId !== null && keep === 0) {
      // This tab shows another branch, or an older state: read the conversation as the core has it.
      void this.#reload();
      return;
    }
    this.messages = [...this.messages.slice(0, keep), ...(userMessage ? [userMessage] : []), message];
    this.streamingId = message.id;
    this.#dropPending();
    this.streamingText = message.text;
    this.streamingContextUsed = 0;
    this.revision += 1;
  }

  #onEvent(event: CoreEvent): void {
    if (event.type === "chats.changed") {
      // Renamed, deleted, restored or imported in some tab: the list fetches again, the header follows a rename.
      this.revision += 1;
      if (event.chatId !== this.chatId) return;
      if (event.title !== null) this.title = event.title;
      else if (event.chatId !== this.#deletingHere) void this.#leaveDeleted(event.chatId);
    } else if (event.type === "chat.settings") {
      // Saved here or in another tab: the settings panel moves its working copy onto them.
      if (event.chatId === this.chatId) this.#takeSettings(event.settings, event.updatedAt);
    } else if (event.type === "generation.started") {
      this.#started(event);
    } else if (event.type === "generation.delta") {
      if (event.chatId !== this.chatId) return;
      if (event.messageId === this.streamingId) {
        this.#queueDelta(event.text, event.contextUsed);
        return;
      }
      this.streamingContextUsed = event.contextUsed;
      if (this.sending) {
        this.#earlyText.set(event.messageId, (this.#earlyText.get(event.messageId) ?? "") + event.text);
      }
    } else if (event.type === "generation.done") {
      if (event.chatId !== this.chatId) {
        this.revision += 1;
        return;
      }
      const { message } = event;
      const index = this.messages.findIndex((existing) => existing.id === message.id);
      if (index >= 0) {
        this.messages = this.messages.with(index, message);
      } else if (this.sending) {
        this.#earlyDone.set(message.id, message);
      }
      if (this.streamingId === message.id) {
        this.#dropPending();
        this.streamingId = null;
        this.streamingText = "";
        this.streamingContextUsed = 0;
      }
      // The saved reply may be a new version: fetch the versions (and the title) afresh.
      if (!this.sending) void this.#reload();
    }
  }

  async #reload(): Promise<void> {
    const chatId = this.chatId;
    if (chatId === null) return;
    try {
      const chat = await api.getChat({ chatId });
      if (this.chatId === chatId && !this.generating) this.#show(chat);
      this.revision += 1;
    } catch (error) {
      notices.report(error);
    }
  }
}

export const chat = new ChatStore();
