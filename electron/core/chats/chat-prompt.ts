// What a conversation puts in front of the model: its system prompt, then the branch down to
// a message (replies still being written left out). Replies and token counts build it alike.

import type { PromptMessage } from "../../engine/protocol.js";
import type { ChatStore } from "./chat-store.js";

export function conversationPrompt(chats: ChatStore, chatId: string, parentId: string | null): PromptMessage[] {
  const { systemPrompt } = chats.settings(chatId);
  const turns = chats
    .branchTo(chatId, parentId)
    .filter((message) => message.text !== "" && message.status !== "streaming")
    .map((message): PromptMessage => ({ role: message.role, text: message.text }));
  return systemPrompt.trim() === "" ? turns : [{ role: "system", text: systemPrompt }, ...turns];
}
