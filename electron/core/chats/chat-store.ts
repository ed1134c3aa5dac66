// Conversations: kept in memory once read, every change appended to the chat's log first.
// Deleting moves the log into a "deleted" folder (so it can be restored); nothing is erased.
// Writes to one conversation's log go one at a time; a log whose superseded lines pass a
// bound is compacted (see chat-log.ts). A log with nothing readable in it is set aside.

import { promises as fs } from "node:fs";
import path from "node:path";
import { newId } from "../../common/ids.js";
import { DEFAULT_CHAT_SETTINGS } from "../../contract/chat-settings.js";
import { QuantaError } from "../../contract/errors.js";
import type {
  Chat,
  ChatMessage,
  ChatSearchHit,
  ChatSearchMatch,
  ChatSettings,
  ChatSummary,
  MessageDeletion,
} from "../../contract/types.js";
import type { ImportedChat } from "./chat-import.js";
import { appendChatEvent, CHAT_FORMAT_VERSION, COMPACTING_SUFFIX, readChatLog, rewriteChatLog, type ChatEvent } from "./chat-log.js";
import { findInText, queryPattern, snippetText } from "./chat-search.js";
import { ChatTree } from "./chat-tree.js";

const CHAT_FILE = /^([A-Za-z0-9_-]+)\.jsonl$/;
const DEFAULT_TITLE = "New chat";
const DELETED_FOLDER = "deleted";
/** Logs with no readable event (an empty file left by a failed create, say) are moved here. */
const UNREADABLE_FOLDER = "unreadable";
/** Compact a log once its superseded lines take more than this and more than its live lines. */
const DEFAULT_COMPACT_AFTER_BYTES = 512 * 1024;

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
  return new QuantaError(
    "storage_failed",
    `Could not save ${what}: ${reason}. It is not saved; what was saved before is intact. Try again once that is fixed.`,
  );
}

/** One conversation in memory: what its log says, replayed. */
interface ChatRecord {
  id: string;
  title: string;
  /** The user named it: the first message no longer names it. */
  titled: boolean;
  createdAt: string;
  updatedAt: string;
  settings: ChatSettings;
  tree: ChatTree;
  log: LogState;
}

/** What the log on disk holds, to know when compacting it pays. */
interface LogState {
  bytes: number;
  /** The size of the line that holds each event's current state ("m:<id>", "settings", …). */
  live: Map<string, number>;
  liveBytes: number;
  /** Only a log this version fully understands is rewritten: nothing a newer Quanta wrote is dropped. */
  compactable: boolean;
  /** The write in progress: appends and compactions of one log never overlap. */
  writing: Promise<unknown>;
}

function eventKey(event: ChatEvent): string {
  return event.type === "message" ? `m:${event.message.id}` : event.type;
}

function track(log: LogState, event: ChatEvent, bytes: number): void {
  if (event.type === "deleted") {
    // The deleted messages' lines are superseded, and so is this one once compacted.
    log.bytes += bytes;
    for (const id of event.messageIds) {
      log.liveBytes -= log.live.get(`m:${id}`) ?? 0;
      log.live.delete(`m:${id}`);
    }
    return;
  }
  const key = eventKey(event);
  log.bytes += bytes;
  log.liveBytes += bytes - (log.live.get(key) ?? 0);
  log.live.set(key, bytes);
}

function applyEvent(chat: ChatRecord, event: ChatEvent): void {
  switch (event.type) {
    case "created":
      break;
    case "titled":
      chat.title = event.title;
      break;
    case "message":
      chat.tree.put(event.message);
      break;
    case "settings":
      chat.settings = event.settings;
      break;
    case "selected":
      chat.tree.select(event.messageId);
      break;
    case "deleted":
      chat.tree.remove(event.messageIds);
      break;
    default:
      event satisfies never;
  }
  chat.updatedAt = event.at;
}

function snapshot(chat: ChatRecord): Chat {
  return structuredClone({
    id: chat.id,
    title: chat.title,
    createdAt: chat.createdAt,
    updatedAt: chat.updatedAt,
    messages: chat.tree.path(),
    settings: chat.settings,
    versions: chat.tree.versions(),
  });
}

function summary(chat: ChatRecord): ChatSummary {
  return { id: chat.id, title: chat.title, updatedAt: chat.updatedAt, messageCount: chat.tree.path().length };
}

export class ChatStore {
  private readonly chats = new Map<string, ChatRecord>();
  private loaded = false;
  private readonly compactAfterBytes: number;

  constructor(
    private readonly folder: string,
    private readonly warn: (message: string) => void = (message) => console.warn(message),
    options: { compactAfterBytes?: number } = {},
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
  }

  private file(chatId: string): string {
    return path.join(this.folder, `${chatId}.jsonl`);
  }

  private deletedFile(chatId: string): string {
    return path.join(this.folder, DELETED_FOLDER, `${chatId}.jsonl`);
  }

  async load(): Promise<void> {
    if (this.loaded) return;
    await fs.mkdir(this.folder, { recursive: true });
    for (const name of await fs.readdir(this.folder)) {
      // A compaction a kill interrupted: the log it was copied from is still whole.
      if (name.endsWith(COMPACTING_SUFFIX)) {
        await fs.rm(path.join(this.folder, name), { force: true }).catch(() => undefined);
        continue;
      }
      const id = CHAT_FILE.exec(name)?.[1];
      if (!id) continue;
      try {
        const chat = await this.readRecord(id, this.file(id));
        if (chat) this.chats.set(id, chat);
      } catch (error) {
        this.warn(`Chat ${id} could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.loaded = true;
  }

  /** Null for a log with no readable event: it is no conversation, and is set aside. */
  private async readRecord(id: string, file: string): Promise<ChatRecord | null> {
    const { events, skipped, unknownEvents, unknownFields, version, lineBytes, bytes } = await readChatLog(file);
    if (events.length === 0) {
      await this.setAside(id, file, bytes);
      return null;
    }
    if (skipped > 0) this.warn(`Chat ${id}: skipped ${skipped} unreadable line(s); the rest is intact.`);
    if (unknownFields > 0) this.warn(`Chat ${id}: ignored unknown fields on ${unknownFields} line(s).`);
    if (version > CHAT_FORMAT_VERSION) {
      this.warn(`Chat ${id} was written in format ${version}, newer than this Quanta's ${CHAT_FORMAT_VERSION}; read what is understood.`);
    }
    const created = events.find((event) => event.type === "created");
    const at = created?.at ?? events[0]?.at ?? new Date(0).toISOString();
    const chat: ChatRecord = {
      id,
      title: created?.title ?? DEFAULT_TITLE,
      titled: events.some((event) => event.type === "titled"),
      createdAt: at,
      updatedAt: at,
      settings: structuredClone(DEFAULT_CHAT_SETTINGS),
      tree: new ChatTree(),
      log: {
        bytes: 0,
        live: new Map(),
        liveBytes: 0,
        compactable: version === CHAT_FORMAT_VERSION && unknownEvents === 0 && unknownFields === 0,
        writing: Promise.resolve(),
      },
    };
    events.forEach((event, index) => {
      applyEvent(chat, event);
      track(chat.log, event, lineBytes[index] ?? 0);
    });
    // Torn lines count as superseded: a compaction drops them.
    chat.log.bytes = bytes;
    // A reply last saved mid-way (a checkpoint) was cut short when Quanta stopped: keep its
    // text and say so.
    for (const message of chat.tree.all()) {
      if (message.status !== "streaming") continue;
      chat.tree.put({
        ...message,
        status: "failed",
        error: { code: "generation_failed", message: "Quanta stopped while this reply was being written; the text so far is kept." },
      });
    }
    return chat;
  }

  private async setAside(id: string, file: string, bytes: number): Promise<void> {
    const aside = path.join(this.folder, UNREADABLE_FOLDER, `${id}-${Date.now()}.jsonl`);
    try {
      await fs.mkdir(path.dirname(aside), { recursive: true });
      await fs.rename(file, aside);
      this.warn(`Chat ${id} holds no readable line (${bytes} bytes); it was set aside as ${aside}.`);
    } catch (error) {
      this.warn(`Chat ${id} holds no readable line (${bytes} bytes) and is not shown; it could not be set aside: ${String(error)}`);
    }
  }

  /** Newest first. */
  list(): ChatSummary[] {
    return [...this.chats.values()].map(summary).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  private record(chatId: string): ChatRecord {
    const chat = this.chats.get(chatId);
    if (!chat) throw new QuantaError("not_found", "That conversation does not exist (it may have been deleted).");
    return chat;
  }

  get(chatId: string): Chat {
    return snapshot(this.record(chatId));
  }

  settings(chatId: string): ChatSettings {
    return structuredClone(this.record(chatId).settings);
  }

  message(chatId: string, messageId: string): ChatMessage {
    const message = this.record(chatId).tree.find(messageId);
    if (!message) throw new QuantaError("not_found", "That message does not exist in this conversation.");
    return structuredClone(message);
  }

  /** Every message of every version, in the order first written. */
  allMessages(chatId: string): ChatMessage[] {
    return structuredClone(this.record(chatId).tree.all());
  }

  /** The messages from the conversation's start down to this one (inclusive); [] for null. */
  branchTo(chatId: string, messageId: string | null): ChatMessage[] {
    return messageId === null ? [] : structuredClone(this.record(chatId).tree.path(messageId));
  }

  /** The last message of the branch on show. */
  leaf(chatId: string): string | null {
    return this.record(chatId).tree.leafId;
  }

  async create(): Promise<Chat> {
    const id = newId();
    const at = new Date().toISOString();
    await fs.mkdir(this.folder, { recursive: true }).catch((error: unknown) => {
      throw storageError(error, "the new conversation");
    });
    const created: ChatEvent = { type: "created", v: CHAT_FORMAT_VERSION, id, title: DEFAULT_TITLE, at };
    let bytes: number;
    try {
      bytes = await appendChatEvent(this.file(id), created);
    } catch (error) {
      // Opening the log created it: a failed create must not leave an empty conversation behind.
      await fs.rm(this.file(id), { force: true }).catch(() => undefined);
      throw storageError(error, "the new conversation");
    }
    const chat: ChatRecord = {
      id,
      title: DEFAULT_TITLE,
      titled: false,
      createdAt: at,
      updatedAt: at,
      settings: structuredClone(DEFAULT_CHAT_SETTINGS),
      tree: new ChatTree(),
      log: { bytes: 0, live: new Map(), liveBytes: 0, compactable: true, writing: Promise.resolve() },
    };
    track(chat.log, created, bytes);
    this.chats.set(id, chat);
    return snapshot(chat);
  }

  /** Writes a message (new, or a newer state of one already there) and then updates memory. */
  async saveMessage(chatId: string, message: ChatMessage): Promise<void> {
    const chat = this.record(chatId);
    const at = new Date().toISOString();
    await this.commit(chat, { type: "message", message, at }, "the message");
    if (!chat.titled && chat.title === DEFAULT_TITLE && message.role === "user") {
      await this.commit(chat, { type: "titled", title: titleFrom(message.text), at }, "the conversation's title").catch((error: unknown) =>
        this.warn(String(error)),
      );
    }
  }

  async rename(chatId: string, title: string): Promise<Chat> {
    const chat = this.record(chatId);
    await this.commit(chat, { type: "titled", title: title.trim(), at: new Date().toISOString() }, "the new name");
    chat.titled = true;
    return snapshot(chat);
  }

  /** Changes the fields given, on top of the settings as saved when the write's turn comes. */
  async updateSettings(chatId: string, changes: Partial<ChatSettings>): Promise<Chat> {
    const chat = this.record(chatId);
    await this.commit(
      chat,
      () => ({ type: "settings", settings: { ...chat.settings, ...changes }, at: new Date().toISOString() }),
      "the conversation's settings",
    );
    return snapshot(chat);
  }

  /** Shows the branch through this version of a message. */
  async select(chatId: string, messageId: string): Promise<Chat> {
    const chat = this.record(chatId);
    if (!chat.tree.has(messageId)) throw new QuantaError("not_found", "That message does not exist in this conversation.");
    await this.commit(chat, { type: "selected", messageId, at: new Date().toISOString() }, "the version chosen");
    return snapshot(chat);
  }

  /** Moves the conversation's log aside, where restore() finds it again. */
  async delete(chatId: string): Promise<void> {
    const chat = this.record(chatId);
    await this.exclusive(chat, async () => {
      try {
        await fs.mkdir(path.dirname(this.deletedFile(chatId)), { recursive: true });
        await fs.rename(this.file(chatId), this.deletedFile(chatId));
      } catch (error) {
        throw storageError(error, "the deletion");
      }
      this.chats.delete(chatId);
    });
  }

  async restore(chatId: string): Promise<Chat> {
    if (this.chats.has(chatId)) return this.get(chatId);
    try {
      await fs.rename(this.deletedFile(chatId), this.file(chatId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new QuantaError("not_found", "That conversation is no longer among the deleted ones.");
      }
      throw storageError(error, "the restored conversation");
    }
    const chat = await this.readRecord(chatId, this.file(chatId));
    if (!chat) throw new QuantaError("not_found", "That conversation held nothing readable; it was set aside.");
    this.chats.set(chatId, chat);
    return snapshot(chat);
  }

  /**
   * Conversations whose title or any message (any version) contains the query, newest first.
   * Each hit names the message version that holds its first match (the branch on show is
   * looked in first), so opening it can show that version.
   */
  search(query: string): ChatSearchHit[] {
    const pattern = queryPattern(query);
    if (pattern === null) return this.list().map((chat) => ({ ...chat, snippet: null, match: null }));
    const hits: ChatSearchHit[] = [];
    for (const chat of this.chats.values()) {
      const shown = chat.tree.path();
      const onShow = new Set(shown.map((message) => message.id));
      let match: ChatSearchMatch | null = null;
      for (const message of [...shown, ...chat.tree.all().filter((other) => !onShow.has(other.id))]) {
        match = findInText(message.text, pattern, message.id);
        if (match) break;
      }
      if (match !== null || pattern.test(chat.title)) {
        hits.push({ ...summary(chat), snippet: match ? snippetText(match) : null, match });
      }
    }
    return hits.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /**
   * Deletes a message with everything below it (ChatTree.descendants), on disk first, then
   * compacts the log at once so that the deleted text is gone from the file too (a log this
   * version does not fully understand keeps the "deleted" event instead: still durable).
   */
  async deleteMessage(chatId: string, messageId: string): Promise<MessageDeletion> {
    const chat = this.record(chatId);
    const ids = chat.tree.descendants(messageId);
    if (ids.length === 0) throw new QuantaError("not_found", "That message does not exist in this conversation.");
    const event: ChatEvent = { type: "deleted", messageIds: ids, at: new Date().toISOString() };
    await this.commit(chat, event, "the deletion", true);
    return { chat: snapshot(chat), deletedIds: ids };
  }

  /**
   * Saves an imported conversation (validated by chat-import.ts) as a new one with a new id:
   * its whole log is written to a temporary file and renamed into place, so a failure leaves
   * nothing, and it is then read back as a restart would read it.
   */
  async importChat(imported: ImportedChat): Promise<Chat> {
    const id = newId();
    const at = imported.updatedAt;
    const events: ChatEvent[] = [{ type: "created", v: CHAT_FORMAT_VERSION, id, title: DEFAULT_TITLE, at: imported.createdAt }];
    if (imported.title !== DEFAULT_TITLE) events.push({ type: "titled", title: imported.title, at });
    events.push({ type: "settings", settings: structuredClone(imported.settings), at });
    for (const message of imported.messages) events.push({ type: "message", message: structuredClone(message), at });
    if (imported.leafId !== null && imported.leafId !== imported.messages.at(-1)?.id) {
      events.push({ type: "selected", messageId: imported.leafId, at });
    }
    const file = this.file(id);
    try {
      await fs.mkdir(this.folder, { recursive: true });
      await rewriteChatLog(file, events);
    } catch (error) {
      throw storageError(error, "the imported conversation");
    }
    const chat = await this.readRecord(id, file);
    if (!chat) throw new QuantaError("storage_failed", "The imported conversation could not be read back; it was set aside.");
    this.chats.set(id, chat);
    return snapshot(chat);
  }

  /**
   * On disk first, then in memory: what the UI shows as saved is saved. An event given as a
   * function is made when the write's turn comes, from the state the writes before it left.
   */
  private commit(chat: ChatRecord, next: ChatEvent | (() => ChatEvent), what: string, compactNow = false): Promise<void> {
    return this.exclusive(chat, async () => {
      const event = typeof next === "function" ? next() : next;
      let bytes: number;
      try {
        bytes = await appendChatEvent(this.file(chat.id), event);
      } catch (error) {
        throw storageError(error, what);
      }
      applyEvent(chat, event);
      track(chat.log, event, bytes);
      await this.compactIfDue(chat, compactNow);
    });
  }

  /** Runs `work` after the log's previous write has ended, whatever its outcome. */
  private exclusive<T>(chat: ChatRecord, work: () => Promise<T>): Promise<T> {
    const result = chat.log.writing.then(work, work);
    chat.log.writing = result.catch(() => undefined);
    return result;
  }

  /**
   * Rewrites the log as its current state once superseded lines (earlier states of a message,
   * checkpoints of a reply) outweigh both the bound and the live lines: total bytes written
   * stay proportional to the conversation, not to the square of a long reply. A failed
   * compaction changes nothing on disk and is only a warning (the append it followed is saved).
   */
  private async compactIfDue(chat: ChatRecord, now = false): Promise<void> {
    const { log } = chat;
    const superseded = log.bytes - log.liveBytes;
    if (!log.compactable || (!now && superseded <= Math.max(this.compactAfterBytes, log.liveBytes))) return;
    const events = compactedEvents(chat);
    try {
      const sizes = await rewriteChatLog(this.file(chat.id), events);
      const fresh: LogState = { bytes: 0, live: new Map(), liveBytes: 0, compactable: true, writing: log.writing };
      events.forEach((event, index) => track(fresh, event, sizes[index] ?? 0));
      log.bytes = fresh.bytes;
      log.live = fresh.live;
      log.liveBytes = fresh.liveBytes;
    } catch (error) {
      this.warn(`Chat ${chat.id} could not be compacted (it is unchanged): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The conversation as the fewest events that replay to the same state (see applyEvent, ChatTree). */
function compactedEvents(chat: ChatRecord): ChatEvent[] {
  const at = chat.updatedAt;
  const events: ChatEvent[] = [{ type: "created", v: CHAT_FORMAT_VERSION, id: chat.id, title: DEFAULT_TITLE, at: chat.createdAt }];
  if (chat.log.live.has("titled") || chat.title !== DEFAULT_TITLE) events.push({ type: "titled", title: chat.title, at });
  if (chat.log.live.has("settings")) events.push({ type: "settings", settings: structuredClone(chat.settings), at });
  const messages = chat.tree.all();
  for (const message of messages) events.push({ type: "message", message: structuredClone(message), at });
  const leaf = chat.tree.leafId;
  if (leaf !== null && leaf !== messages.at(-1)?.id) events.push({ type: "selected", messageId: leaf, at });
  return events;
}
