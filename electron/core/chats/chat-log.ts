// The on-disk format of a conversation: one JSONL file, one event per line, appended and
// flushed to disk before the UI is told it is saved. A torn or unreadable line is skipped
// with a warning, never fatal: a conversation is never lost to one bad line. A line with
// fields this version does not know is kept (those fields are dropped) and counted.
//
// Format 1: messages had no parentId (the conversation was one line of messages).
// Format 2: messages carry parentId and provenance; "settings" and "selected" events.
// Reading a format 1 file upgrades it in memory (see chat-tree.ts); nothing is rewritten.
// A "deleted" event (a message deleted with what followed it) is followed at once by a
// compaction, which leaves the log without the messages and without the event.
//
// An append writes every byte and flushes it, or fails and cuts the file back to where it
// was (a full disk can take part of a line without an error). A file whose lines are mostly
// superseded (a long reply saved every few seconds) is compacted: rewritten to a temporary
// file, flushed, renamed over the log, folder flushed; a kill at any point leaves one whole log.

import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { z } from "zod";
import { SAMPLING_PRESET_NAMES } from "../../contract/chat-settings.js";
import { ERROR_CODES } from "../../contract/errors.js";
import { replaceFileAtomic, writeAll } from "../settings/durable-write.js";

export const CHAT_FORMAT_VERSION = 2;

type ObjectFactory = typeof z.object;

function schemas(object: ObjectFactory) {
  const wireError = object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  });
  const stats = object({
    promptTokens: z.number(),
    generatedTokens: z.number(),
    timeToFirstTokenMs: z.number(),
    tokensPerSecond: z.number(),
    promptTokensPerSecond: z.number(),
    stopReason: z.enum(["end", "stopped", "max_tokens", "context_full", "error"]),
    threads: z.number(),
  });
  const sampling = object({
    temperature: z.number(),
    topK: z.number(),
    topP: z.number(),
    minP: z.number(),
    repeatPenalty: z.number(),
    seed: z.number().nullable(),
    maxTokens: z.number(),
  });
  const provenance = object({
    model: object({
      fileName: z.string(),
      quantization: z.string().nullable(),
      sizeBytes: z.number(),
      mtimeMs: z.number(),
    }),
    sampling,
    systemPrompt: z.string(),
    contextSize: z.number(),
    chatTemplate: z.string(),
    droppedMessages: z.number(),
  });
  const message = object({
    id: z.string(),
    role: z.enum(["user", "assistant"]),
    text: z.string(),
    createdAt: z.string(),
    status: z.enum(["complete", "streaming", "stopped", "failed"]),
    modelId: z.string().nullable(),
    stats: stats.nullable(),
    error: wireError.nullable(),
    parentId: z.string().nullable().optional(),
    provenance: provenance.nullable().optional(),
  });
  const settings = object({
    systemPrompt: z.string(),
    preset: z.enum(SAMPLING_PRESET_NAMES),
    overrides: sampling.partial(),
    contextSize: z.number().nullable(),
    chatTemplate: z.string().nullable(),
  });
  const event = z.discriminatedUnion("type", [
    object({ type: z.literal("created"), v: z.number().int(), id: z.string(), title: z.string(), at: z.string() }),
    object({ type: z.literal("message"), message, at: z.string() }),
    object({ type: z.literal("titled"), title: z.string(), at: z.string() }),
    object({ type: z.literal("settings"), settings, at: z.string() }),
    /** The user chose another version of a message: the branch through it is shown. */
    object({ type: z.literal("selected"), messageId: z.string(), at: z.string() }),
    /** The user deleted a message with what followed it (ChatTree.descendants); compacted away at once. */
    object({ type: z.literal("deleted"), messageIds: z.array(z.string()).min(1), at: z.string() }),
  ]);
  return { message, settings, event };
}

const strict = schemas(z.strictObject as ObjectFactory);
const lenient = schemas(z.object);

export const messageSchema = lenient.message;
export const chatSettingsSchema = lenient.settings;
export const chatEventSchema = lenient.event;

export type ChatEvent = z.infer<typeof chatEventSchema>;

export interface ChatLogRead {
  events: ChatEvent[];
  /** Lines that could not be read (a torn last line after a crash, a damaged line, an unknown event). */
  skipped: number;
  /** Of the skipped lines, those that are JSON but no event this version knows (a newer Quanta's). */
  unknownEvents: number;
  /** Each event's line in bytes, newline included (parallel to `events`). */
  lineBytes: number[];
  /** The file's size in bytes. */
  bytes: number;
  /** Lines kept without the fields this version does not know (written by a newer Quanta). */
  unknownFields: number;
  /** The format version the file says it was written in (1 when it does not say). */
  version: number;
}

export function parseChatLog(text: string): ChatLogRead {
  const events: ChatEvent[] = [];
  const lineBytes: number[] = [];
  let skipped = 0;
  let unknownEvents = 0;
  let unknownFields = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped += 1;
      continue;
    }
    if (strict.event.safeParse(value).success) {
      events.push(lenient.event.parse(value));
      lineBytes.push(Buffer.byteLength(line) + 1);
      continue;
    }
    const parsed = lenient.event.safeParse(value);
    if (parsed.success) {
      events.push(parsed.data);
      lineBytes.push(Buffer.byteLength(line) + 1);
      unknownFields += 1;
    } else {
      skipped += 1;
      unknownEvents += 1;
    }
  }
  const created = events.find((event) => event.type === "created");
  return {
    events,
    skipped,
    unknownEvents,
    unknownFields,
    lineBytes,
    bytes: Buffer.byteLength(text),
    version: created?.type === "created" ? created.v : 1,
  };
}

export async function readChatLog(file: string): Promise<ChatLogRead> {
  return parseChatLog(await fs.readFile(file, "utf8"));
}

/**
 * Appends one event and waits until it is on disk; returns the line's size in bytes. On any
 * failure (a full disk, an I/O error) the file is cut back to its size before, so no torn
 * line is left, and the error is thrown: the event is not saved and must not be reported so.
 */
export async function appendChatEvent(file: string, event: ChatEvent): Promise<number> {
  const handle = await fs.open(file, "a+");
  try {
    // A line that a crash tore in half must not swallow this one: start on a fresh line.
    const { size } = await handle.stat();
    const prefix = size > 0 && (await lastByte(handle, size)) !== 0x0a ? "\n" : "";
    const data = Buffer.from(`${prefix}${JSON.stringify(event)}\n`);
    try {
      await writeAll(handle, data);
      await handle.datasync();
    } catch (error) {
      // Truncating frees space, so it works on a full disk; if it cannot, the next append
      // starts on a fresh line and the reader skips the torn one.
      await handle.truncate(size).catch(() => undefined);
      throw error;
    }
    return data.byteLength;
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the log with exactly these events (a compaction), atomically: a kill or a full
 * disk at any point leaves either the old log or the new one, whole. Returns each line's size.
 */
export async function rewriteChatLog(file: string, events: readonly ChatEvent[]): Promise<number[]> {
  const lines = events.map((event) => `${JSON.stringify(event)}\n`);
  await replaceFileAtomic(file, Buffer.from(lines.join("")), `${file}.${randomBytes(6).toString("hex")}${COMPACTING_SUFFIX}`);
  return lines.map((line) => Buffer.byteLength(line));
}

/** A compaction's temporary file ends so; one a kill left behind is a copy, removed at load. */
export const COMPACTING_SUFFIX = ".compacting";

async function lastByte(handle: fs.FileHandle, size: number): Promise<number> {
  const buffer = Buffer.alloc(1);
  await handle.read(buffer, 0, 1, size - 1);
  return buffer[0] ?? 0x0a;
}
