// The composing part of the core contract: saved system prompts and the chat view's token counts.

import type { ComposeCoreApi } from "../../contract/api.js";
import type { SystemPrompts } from "./system-prompts.js";
import type { TokenCounts } from "./token-counts.js";

export function createComposeApi(prompts: SystemPrompts, counts: TokenCounts): ComposeCoreApi {
  return {
    listSystemPrompts: () => prompts.list(),
    saveSystemPrompt: (request) => prompts.save(request),
    deleteSystemPrompt: ({ id }) => prompts.delete(id),
    countChatContext: ({ chatId }) => counts.chat(chatId),
    countDraftTokens: ({ chatId, text }) => counts.draft(chatId, text),
  };
}
