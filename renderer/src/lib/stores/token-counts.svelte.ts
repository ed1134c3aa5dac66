// Owns the chat view's token counts, both made by the core with the loaded model's tokenizer
// and template: how much of the context the open conversation fills (the header's meter) and
// what the message being typed takes (the composer). Talks to lib/api: countChatContext and
// countDraftTokens. The draft is counted a moment after typing stops, one call at a time, the
// newest text winning: typing never waits for a count.

import { api, type ChatContextCount, type DraftTokenCount, type TokenCountMissing } from "../api/index.js";
import type { MessageKey } from "../i18n/index.js";

/** How long typing must pause before the draft is counted. */
const DRAFT_DEBOUNCE_MS = 150;

/** How each reason a count is not available is worded ("not available: no model is loaded"). */
export const MISSING_COUNT_KEYS: Readonly<Record<TokenCountMissing, MessageKey>> = {
  no_model_loaded: "count.missing.no_model_loaded",
  model_loading: "count.missing.model_loading",
  engine_unavailable: "count.missing.engine_unavailable",
};

export interface CountedDraft {
  chatId: string;
  text: string;
  count: DraftTokenCount;
}

class TokenCountStore {
  /** The open conversation's count; null until the core answered (or when it could not). */
  context = $state.raw<{ chatId: string; count: ChatContextCount } | null>(null);
  /** The draft as last counted (the text it was counted for included). */
  draft = $state.raw<CountedDraft | null>(null);

  #contextAsks = 0;
  #draftTimer: ReturnType<typeof setTimeout> | null = null;
  #draftInFlight = false;
  #draftWanted: { chatId: string; text: string } | null = null;

  /** Counts the conversation again (after a reply, a settings change, a model load). */
  async refreshContext(chatId: string): Promise<void> {
    const ask = ++this.#contextAsks;
    try {
      const count = await api.countChatContext({ chatId });
      if (ask === this.#contextAsks) this.context = { chatId, count };
    } catch {
      // A count is advisory: a chat deleted or a connection lost meanwhile leaves none shown.
      if (ask === this.#contextAsks) this.context = null;
    }
  }

  /** Asks for the draft to be counted once typing pauses; an empty draft has no count. */
  countDraft(chatId: string, text: string): void {
    if (this.#draftTimer !== null) clearTimeout(this.#draftTimer);
    this.#draftTimer = null;
    if (text.trim() === "") {
      this.#draftWanted = null;
      this.draft = null;
      return;
    }
    this.#draftWanted = { chatId, text };
    this.#draftTimer = setTimeout(() => {
      this.#draftTimer = null;
      void this.#countWanted();
    }, DRAFT_DEBOUNCE_MS);
  }

  /** The count of exactly this text with the settings as saved now, as the send button needs it. */
  async countNow(chatId: string, text: string): Promise<DraftTokenCount | null> {
    try {
      return await api.countDraftTokens({ chatId, text });
    } catch {
      return null;
    }
  }

  async #countWanted(): Promise<void> {
    if (this.#draftInFlight) return;
    const wanted = this.#draftWanted;
    if (wanted === null) return;
    this.#draftInFlight = true;
    try {
      const count = await api.countDraftTokens(wanted);
      if (this.#draftWanted === wanted) this.draft = { ...wanted, count };
    } catch {
      if (this.#draftWanted === wanted) this.draft = null;
    } finally {
      this.#draftInFlight = false;
    }
    // Typed meanwhile: count the newest text now (its pause has already passed).
    if (this.#draftWanted !== wanted && this.#draftWanted !== null && this.#draftTimer === null) void this.#countWanted();
  }
}

export const tokenCounts = new TokenCountStore();
