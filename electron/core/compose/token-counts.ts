// The chat view's token counts, from one source: the loaded model's tokenizer and the chat
// template a reply would use, applied by the engine to the conversation as the core holds it.
// So the context meter reads the same before and after an engine restart, and a message being
// typed is counted against what the window has left. No model: "not available", never 0.

import { toWireError } from "../../contract/errors.js";
import type { ChatContextCount, DraftTokenCount, TokenCountMissing } from "../../contract/types.js";
import type { EngineApi, EngineTokenCount } from "../../engine/protocol.js";
import { conversationPrompt } from "../chats/chat-prompt.js";
import type { ChatStore } from "../chats/chat-store.js";
import type { ModelHost } from "../engine-client/model-host.js";

export interface TokenCountsOptions {
  chats: ChatStore;
  models: Pick<ModelHost, "state" | "up"> & { engine: { api(): Promise<Pick<EngineApi, "countTokens">> } };
}

type Counted = { counted: true; count: EngineTokenCount } | { counted: false; missing: TokenCountMissing };

export class TokenCounts {
  constructor(private readonly options: TokenCountsOptions) {}

  /** How much of its window the conversation on show fills. */
  async chat(chatId: string): Promise<ChatContextCount> {
    const result = await this.#count(chatId, null);
    if (!result.counted) return result;
    const { count } = result;
    if (count.conversationTokens === null) return { counted: false, missing: "engine_unavailable" };
    return { counted: true, usedTokens: count.conversationTokens, contextSize: count.contextSize, chatTemplate: count.chatTemplate };
  }

  /** A message being typed, as if it were sent now. */
  async draft(chatId: string, text: string): Promise<DraftTokenCount> {
    const result = await this.#count(chatId, text);
    if (!result.counted) return result;
    const { draft, contextSize } = result.count;
    if (draft === null) return { counted: false, missing: "engine_unavailable" };
    return { counted: true, contextSize, ...draft };
  }

  async #count(chatId: string, draft: string | null): Promise<Counted> {
    const { chats, models } = this.options;
    // Unknown conversations are refused before anything else (not_found).
    const settings = chats.settings(chatId);
    const { messages, droppedBefore } = conversationPrompt(chats, chatId, chats.leaf(chatId));
    const state = models.state.kind;
    if (state === "loading") return { counted: false, missing: "model_loading" };
    if (state === "idle") return { counted: false, missing: "no_model_loaded" };
    // Never start an engine to count: while it starts or restarts, the count is not available.
    if (state !== "ready" || !models.up) return { counted: false, missing: "engine_unavailable" };
    try {
      const engine = await models.engine.api();
      const count = await engine.countTokens({
        messages,
        draft,
        ...(settings.contextSize === null ? {} : { contextLimit: settings.contextSize }),
        chatTemplate: settings.chatTemplate,
        droppedBefore,
      });
      return { counted: true, count };
    } catch (error) {
      const { code } = toWireError(error);
      if (code === "no_model_loaded") return { counted: false, missing: "no_model_loaded" };
      if (code === "engine_crashed" || code === "engine_unavailable") return { counted: false, missing: "engine_unavailable" };
      throw error;
    }
  }
}
