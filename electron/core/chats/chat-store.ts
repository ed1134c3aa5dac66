// Conversations: kept in memory once read, every change appended to the chat's log first.

import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import type { Chat, ChatMessage, ChatSummary } from "../../contract/types.js";
import { appendChatEvent, CHAT_FORMAT_VERSION, readChatLog, type ChatEvent } from "./chat-log.js";

const CHAT_FILE = /^([A-Za-z0-9_-]+)\.jsonl$/;
const DEFAULT_TITLE = "New chat";

export function newId(): string {
  return randomUUID().replaceAll("-", "");
}

function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}

function storageError(error: unknown, what: string): QuantaError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOSPC"
      ? "the disk is full"
      : code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? "the chats folder is not writable"
        : error instanceof Error
          ? error.message
          : String(error);
  return new QuantaError("storage_failed", `Could not save ${what}: ${reason}. Nothing was lost; try again once that is fixed.`);
}

function applyEvent(chat: Chat, event: ChatEvent): void {
  switch (event.type) {
    case "created":
      break;
    case "titled":
      chat.title = event.title;
      break;
    case "message": {
      // A later line for the same message id replaces the earlier one (a reply that was finished later).
      const index = chat.messages.findIndex((message) => message.id === event.message.id);
      if (index === -1) chat.messages.push(event.message);
      else chat.messages[index] = event.message;
      break;
    }
    default:
      event satisfies never;
  }
  chat.updatedAt = event.at;
}

export class ChatStore {
  private readonly chats = new Map<string, Chat>();
  private loaded = false;

  constructor(
    private readonly folder: string,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
  ) {}

  private file(chatId: string): string {
    return path.join(this.folder, `${chatId}.jsonl`);
  }

  async load(): Promise<void> {
    if (this.loaded) return;
    await fs.mkdir(this.folder, { recursive: true });
    for (const name of await fs.readdir(this.folder)) {
      const id = CHAT_FILE.exec(name)?.[1];
      if (!id) continue;
      try {
        const { events, skipped } = await readChatLog(this.file(id));
        if (skipped > 0) this.warn(`Chat ${id}: skipped ${skipped} unreadable line(s); the rest is intact.`);
        const created = events.find((event) => event.type === "created");
        const at = created?.at ?? events[0]?.at ?? new Date(0).toISOString();
        const chat: Chat = { id, title: created?.title ?? DEFAULT_TITLE, createdAt: at, updatedAt: at, messages: [] };
        for (const event of events) applyEvent(chat, event);
        this.chats.set(id, chat);
      } catch (error) {
        this.warn(`Chat ${id} could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.loaded = true;
  }

  list(): ChatSummary[] {
    return [...this.chats.values()]
      .map((chat) => ({ id: chat.id, title: chat.title, updatedAt: chat.updatedAt, messageCount: chat.messages.length }))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  get(chatId: string): Chat {
    const chat = this.chats.get(chatId);
    if (!chat) throw new QuantaError("not_found", "That conversation does not exist (it may have been deleted).");
    return chat;
  }

  async create(): Promise<Chat> {
    const id = newId();
    const at = new Date().toISOString();
    await fs.mkdir(this.folder, { recursive: true }).catch((error: unknown) => {
      throw storageError(error, "the new conversation");
    });
    await this.append(id, { type: "created", v: CHAT_FORMAT_VERSION, id, title: DEFAULT_TITLE, at }, "the new conversation");
    const chat: Chat = { id, title: DEFAULT_TITLE, createdAt: at, updatedAt: at, messages: [] };
    this.chats.set(id, chat);
    return chat;
  }

  /** Writes a message (new, or a newer state of one already there) and then updates memory. */
  async saveMessage(chatId: string, message: ChatMessage): Promise<void> {
    const chat = this.get(chatId);
    const at = new Date().toISOString();
    const event: ChatEvent = { type: "message", message, at };
    await this.append(chatId, event, "the message");
    applyEvent(chat, event);
    if (chat.title === DEFAULT_TITLE && message.role === "user") {
      const titled: ChatEvent = { type: "titled", title: titleFrom(message.text), at };
      await this.append(chatId, titled, "the conversation's title").catch((error: unknown) => this.warn(String(error)));
      applyEvent(chat, titled);
    }
  }

  private async append(chatId: string, event: ChatEvent, what: string): Promise<void> {
    try {
      await appendChatEvent(this.file(chatId), event);
    } catch (error) {
      throw storageError(error, what);
    }
  }
}
