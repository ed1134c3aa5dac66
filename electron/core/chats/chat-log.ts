// The on-disk format of a conversation: one JSONL file, one event per line, appended and
// flushed to disk before the UI is told it is saved. A torn or unreadable line is skipped
// with a warning, never fatal: a conversation is never lost to one bad line.

import { promises as fs } from "node:fs";
import { z } from "zod";
import { ERROR_CODES } from "../../contract/errors.js";

export const CHAT_FORMAT_VERSION = 1;

const wireErrorSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string() });

const statsSchema = z.object({
  promptTokens: z.number(),
  generatedTokens: z.number(),
  timeToFirstTokenMs: z.number(),
  tokensPerSecond: z.number(),
  promptTokensPerSecond: z.number(),
  stopReason: z.enum(["end", "stopped", "max_tokens", "context_full", "error"]),
  threads: z.number(),
});

export const messageSchema = z.object({
  id: z.string(),
  role: z.enum(["user", "assistant"]),
  text: z.string(),
  createdAt: z.string(),
  status: z.enum(["complete", "streaming", "stopped", "failed"]),
  modelId: z.string().nullable(),
  stats: statsSchema.nullable(),
  error: wireErrorSchema.nullable(),
});

export const chatEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("created"), v: z.number().int(), id: z.string(), title: z.string(), at: z.string() }),
  z.object({ type: z.literal("message"), message: messageSchema, at: z.string() }),
  z.object({ type: z.literal("titled"), title: z.string(), at: z.string() }),
]);

export type ChatEvent = z.infer<typeof chatEventSchema>;

export interface ChatLogRead {
  events: ChatEvent[];
  /** Lines that could not be read (a torn last line after a crash, a damaged line). */
  skipped: number;
}

export async function readChatLog(file: string): Promise<ChatLogRead> {
  const text = await fs.readFile(file, "utf8");
  const events: ChatEvent[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = chatEventSchema.safeParse(JSON.parse(line));
      if (parsed.success) events.push(parsed.data);
      else skipped += 1;
    } catch {
      skipped += 1;
    }
  }
  return { events, skipped };
}

/** Appends one event and waits until it is on disk. */
export async function appendChatEvent(file: string, event: ChatEvent): Promise<void> {
  const handle = await fs.open(file, "a+");
  try {
    // A line that a crash tore in half must not swallow this one: start on a fresh line.
    const { size } = await handle.stat();
    const prefix = size > 0 && (await lastByte(handle, size)) !== 0x0a ? "\n" : "";
    await handle.write(`${prefix}${JSON.stringify(event)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function lastByte(handle: fs.FileHandle, size: number): Promise<number> {
  const buffer = Buffer.alloc(1);
  await handle.read(buffer, 0, 1, size - 1);
  return buffer[0] ?? 0x0a;
}
