// Owns the conversation list in the sidebar: the conversations (newest first) or the ones
// matching the search, the one just deleted (for Undo), the search match being shown (the
// message version that holds it, for the message list to scroll to and highlight) and
// imports of exported conversations. Talks to lib/api (searchChats, renameChat, restoreChat,
// importChat) and to the chat store, which opens and deletes conversations and whose
// `revision` says when the list may have changed.

import { api, QuantaError, type ChatSearchHit, type ChatSearchMatch, type MAX_CHAT_IMPORT_BYTES } from "../api/index.js";
import { chat } from "./chat.svelte.js";
import { notices } from "./notices.svelte.js";

/** The contract's MAX_CHAT_IMPORT_BYTES: a larger file is refused before it is read. */
export const MAX_IMPORT_BYTES: typeof MAX_CHAT_IMPORT_BYTES = 524_288;

class ConversationsStore {
  list = $state.raw<ChatSearchHit[]>([]);
  query = $state("");
  /** The conversation deleted last, until it is restored or another one is deleted. */
  deleted = $state.raw<{ id: string; title: string } | null>(null);

  /** The search match opened last: its conversation, the version holding it, the words found. */
  found = $state.raw<(ChatSearchMatch & { chatId: string }) | null>(null);
  /** The conversation imported last, for the sidebar to say so. */
  imported = $state.raw<{ title: string; messageCount: number } | null>(null);
  importing = $state(false);

  #request = 0;

  /** Fetches the list (or the search's matches) afresh; a slower older answer never wins. */
  async refresh(): Promise<void> {
    const request = ++this.#request;
    try {
      const hits = await api.searchChats({ query: this.query });
      if (request === this.#request) this.list = hits;
    } catch (error) {
      notices.report(error);
    }
  }

  search(query: string): void {
    this.query = query;
    if (query.trim() === "") this.found = null;
    void this.refresh();
  }

  /**
   * Opens a search hit: the conversation, switched to the version of the message that holds
   * the match when another version is on show; the message list then scrolls to it.
   */
  async openHit(hit: ChatSearchHit): Promise<void> {
    this.found = null;
    await chat.open(hit.id);
    const match = hit.match;
    if (chat.chatId !== hit.id || match === null) return;
    if (!chat.messages.some((message) => message.id === match.messageId)) await chat.selectVersion(match.messageId);
    this.found = { ...match, chatId: hit.id };
  }

  /** A conversation exported as JSON, as a new conversation (opened); a bad file is refused by the core, by code. */
  async importFile(file: File): Promise<void> {
    this.importing = true;
    this.imported = null;
    try {
      if (file.size > MAX_IMPORT_BYTES) {
        // Refused before reading, in the core's words (a file this large cannot be sent whole).
        throw new QuantaError(
          "chat_import_invalid",
          `The file is ${file.size} bytes; a conversation to import is at most ${MAX_IMPORT_BYTES}.`,
          {
            reason: "too_large",
            sizeBytes: file.size,
            maxBytes: MAX_IMPORT_BYTES,
          },
        );
      }
      const { chat: created, messageCount } = await api.importChat({ text: await file.text() });
      await chat.open(created.id);
      this.imported = { title: created.title, messageCount };
      await this.refresh();
    } catch (error) {
      notices.report(error);
    } finally {
      this.importing = false;
    }
  }

  async rename(chatId: string, title: string): Promise<boolean> {
    try {
      const renamed = await api.renameChat({ chatId, title });
      if (chat.chatId === chatId) chat.title = renamed.title;
      await this.refresh();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  async remove(chatId: string, title: string): Promise<void> {
    try {
      await chat.remove(chatId);
      this.deleted = { id: chatId, title };
      await this.refresh();
    } catch (error) {
      notices.report(error);
    }
  }

  async undoDelete(): Promise<void> {
    const deleted = this.deleted;
    if (!deleted) return;
    try {
      await api.restoreChat({ chatId: deleted.id });
      this.deleted = null;
      await chat.open(deleted.id);
      await this.refresh();
    } catch (error) {
      notices.report(error);
    }
  }

  dismissUndo(): void {
    this.deleted = null;
  }
}

export const conversations = new ConversationsStore();
