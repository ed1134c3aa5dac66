// The conversations' part of the core contract: the store for what is saved, the replies
// for what is being written. A conversation writing a reply keeps its shape until it is saved.

import type { ChatCoreApi, CoreApi } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { Chat, CoreEvent } from "../../contract/types.js";
import { parseChatImport } from "./chat-import.js";
import type { ChatReplies } from "./chat-replies.js";
import type { ChatStore } from "./chat-store.js";
import { openExternalLink } from "./external-link.js";

export type ChatApi = ChatCoreApi &
  Pick<
    CoreApi,
    "listChats" | "createChat" | "getChat" | "sendMessage" | "stopGeneration" | "getGenerationActivity" | "stopGenerationRequest"
  >;

export function createChatApi(
  chats: ChatStore,
  replies: ChatReplies,
  emit: (event: CoreEvent) => void,
  openExternal?: (url: string) => Promise<void>,
): ChatApi {
  /** Every tab's conversation list takes a change made in one. */
  const listed = (chat: Chat): Chat => {
    emit({ type: "chats.changed", chatId: chat.id, title: chat.title });
    return chat;
  };
  // Where a store call may throw (an unknown chat), `new Promise` turns the throw into a
  // rejection, as the async methods these were did.
  return {
    listChats: () => Promise.resolve(chats.list()),
    createChat: () => chats.create(),
    // A reply being written is on disk only as of its last checkpoint: show it as it is now.
    getChat: ({ chatId }) => new Promise((resolve) => resolve(replies.live(chats.get(chatId)))),
    sendMessage: ({ chatId, text }) => replies.send(chatId, text),
    stopGeneration: ({ chatId }) => replies.stop(chatId),
    // What the engine is busy with, and a stop for it from any tab (the queue is shared with the local API).
    getGenerationActivity: () => Promise.resolve(replies.activity()),
    stopGenerationRequest: ({ requestId }) => replies.stopRequest(requestId),
    // ---- Conversations: sidebar, settings, versions, links ----
    renameChat: async ({ chatId, title }) => listed(await chats.rename(chatId, title)),
    deleteChat: async ({ chatId }) => {
      replies.refuseWhileReplying(chatId, "Stop the reply before deleting this conversation.");
      await chats.delete(chatId);
      emit({ type: "chats.changed", chatId, title: null });
    },
    restoreChat: async ({ chatId }) => listed(await chats.restore(chatId)),
    searchChats: ({ query }) => new Promise((resolve) => resolve(chats.search(query))),
    updateChatSettings: async ({ chatId, settings }) => {
      const chat = await chats.updateSettings(chatId, settings);
      // Every tab showing the conversation takes the saved settings (see rebaseSettings).
      emit({ type: "chat.settings", chatId, settings: chat.settings, updatedAt: chat.updatedAt });
      return chat;
    },
    editMessage: ({ chatId, messageId, text }) => replies.edit(chatId, messageId, text),
    regenerateReply: ({ chatId, messageId }) => replies.regenerate(chatId, messageId),
    selectVersion: async ({ chatId, messageId }) => {
      replies.refuseWhileReplying(chatId, "Wait for the reply to finish (or stop it) before switching versions.");
      return chats.select(chatId, messageId);
    },
    openExternal: ({ url }) => openExternalLink(url, openExternal),
    listAllMessages: ({ chatId }) => new Promise((resolve) => resolve(chats.allMessages(chatId))),
    deleteMessage: async ({ chatId, messageId }) => {
      if (replies.isReplying(chatId)) {
        throw new QuantaError("busy", "Stop the reply in this conversation before deleting a message.", {
          reason: "delete_while_replying",
        });
      }
      return chats.deleteMessage(chatId, messageId);
    },
    importChat: async ({ text }) => {
      const chat = listed(await chats.importChat(parseChatImport(text)));
      return { chat, messageCount: chats.allMessages(chat.id).length };
    },
  };
}
