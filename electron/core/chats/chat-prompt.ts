// What a conversation puts in front of the model: its system prompt, then the branch down to
// a message (replies still being written left out), and how many oldest turns the branch's
// last reply left out to fit its window. Replies and token counts build it alike.

import type { PromptMessage } from "../../engine/protocol.js";
import type { ChatStore } from "./chat-store.js";

export interface ConversationPrompt {
  messages: PromptMessage[];
  /** The newest reply's droppedMessages (its provenance); 0 when none left any out. */
  droppedBefore: number;
}

export function conversationPrompt(chats: ChatStore, chatId: string, parentId: string | null): ConversationPrompt {
  const { systemPrompt } = chats.settings(chatId);
  const branch = chats.branchTo(chatId, parentId);
  const turns = branch
    .filter((message) => message.text !== "" && message.status !== "streaming")
    .map((message): PromptMessage => ({ role: message.role, text: message.text }));
  return {
    messages: systemPrompt.trim() === "" ? turns : [{ role: "system", text: systemPrompt }, ...turns],
    // The engine leaves out at least as many while that still fits: the prompt then starts as
    // the last one did, and the engine's cache of it is used again (see buildPrompt).
    droppedBefore: branch.findLast((message) => message.provenance !== undefined)?.provenance?.droppedMessages ?? 0,
  };
}
