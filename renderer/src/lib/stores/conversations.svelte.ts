// Owns the conversation list in the sidebar: the conversations (newest first) or the ones
// matching the search, and the one just deleted (for Undo). Talks to lib/api (searchChats,
// renameChat, deleteChat, restoreChat) and to the chat store, which opens conversations and
// whose `revision` says when the list may have changed.

import { api, type ChatSearchHit } from "../api/index.js";
import { chat } from "./chat.svelte.js";
import { notices } from "./notices.svelte.js";

class ConversationsStore {
  list = $state.raw<ChatSearchHit[]>([]);
  query = $state("");
  /** The conversation deleted last, until it is restored or another one is deleted. */
  deleted = $state.raw<{ id: string; title: string } | null>(null);

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
    void this.refresh();
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
      await api.deleteChat({ chatId });
      this.deleted = { id: chatId, title };
      if (chat.chatId === chatId) await chat.openNewestOrNew();
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
