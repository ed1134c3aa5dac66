// Conversations and settings on a disk that fills up (a real tmpfs of a few hundred KB):
// a save the disk cut short is reported as failed, never as saved; once space returns,
// everything reported saved is there, no line is torn, and no empty conversation appears.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatMessage } from "../../electron/contract/types.js";
import { readChatLog } from "../../electron/core/chats/chat-log.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { readJsonFile, writeJsonAtomic } from "../../electron/core/settings/json-file.js";
import { fillDisk, mountSmallDisk, type SmallDisk } from "../support/small-disk.js";

const disks: SmallDisk[] = [];
afterEach(async () => {
  for (const disk of disks.splice(0)) await disk.remove();
});

async function smallDisk(sizeBytes: number): Promise<SmallDisk | null> {
  const disk = await mountSmallDisk(sizeBytes);
  if ("skip" in disk) {
    console.log(`skipped: no small disk to fill (${disk.skip})`);
    return null;
  }
  disks.push(disk);
  return disk;
}

function message(id: string, text: string, parentId: string | null): ChatMessage {
  return {
    id,
    role: "user",
    text,
    createdAt: new Date().toISOString(),
    status: "complete",
    modelId: null,
    stats: null,
    error: null,
    parentId,
  };
}

describe("a data folder on a full disk", () => {
  it("never reports a message saved that the disk cut short, and keeps the log whole", async (context) => {
    const disk = await smallDisk(256 * 1024);
    if (!disk) return context.skip();
    const folder = path.join(disk.folder, "chats");
    const store = new ChatStore(folder, () => undefined);
    await store.load();
    const chat = await store.create();
    // 5,018 bytes of JSON per line, the size of the message the full disk tore in the field.
    const text = "x".repeat(4800);
    await fillDisk(disk.folder, 16 * 1024);
    const saved: string[] = [];
    let failure: unknown = null;
    for (let index = 0; index < 20 && failure === null; index += 1) {
      const id = `m${index}`;
      try {
        await store.saveMessage(chat.id, message(id, text, store.leaf(chat.id)));
        saved.push(id);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toMatchObject({ code: "storage_failed" });
    // What the store shows is what is on disk.
    expect(store.get(chat.id).messages.map((m) => m.id)).toEqual(saved);

    disk.grow(4 * 1024 * 1024);
    const reopened = new ChatStore(folder, () => undefined);
    await reopened.load();
    expect(reopened.get(chat.id).messages.map((m) => m.id)).toEqual(saved);
    const log = await readChatLog(path.join(folder, `${chat.id}.jsonl`));
    expect(log.skipped).toBe(0);
    // And the conversation goes on where it stopped.
    await reopened.saveMessage(chat.id, message("after", "space is back", reopened.leaf(chat.id)));
    const again = new ChatStore(folder, () => undefined);
    await again.load();
    expect(again.get(chat.id).messages.map((m) => m.id)).toEqual([...saved, "after"]);
    // The error says what happened, and does not claim that nothing was lost.
    expect((failure as Error).message).toMatch(/disk is full/);
    expect((failure as Error).message).not.toMatch(/Nothing was lost/);
  });

  it("leaves no empty conversation behind when creating one fails", async (context) => {
    const disk = await smallDisk(64 * 1024);
    if (!disk) return context.skip();
    const folder = path.join(disk.folder, "chats");
    const store = new ChatStore(folder, () => undefined);
    await store.load();
    const kept = await store.create();
    await fillDisk(disk.folder, 0);
    await expect(store.create()).rejects.toMatchObject({ code: "storage_failed" });
    await expect(store.create()).rejects.toMatchObject({ code: "storage_failed" });
    expect(store.list().map((chat) => chat.id)).toEqual([kept.id]);

    disk.grow(1024 * 1024);
    const files = (await fs.readdir(folder)).filter((name) => name.endsWith(".jsonl"));
    expect(files).toEqual([`${kept.id}.jsonl`]);
    const reopened = new ChatStore(folder, () => undefined);
    await reopened.load();
    expect(reopened.list().map((chat) => chat.id)).toEqual([kept.id]);
    expect(reopened.list().every((chat) => !chat.updatedAt.startsWith("1970"))).toBe(true);
  });

  it("keeps the old settings file whole and leaves no temporary file when the disk is full", async (context) => {
    const disk = await smallDisk(64 * 1024);
    if (!disk) return context.skip();
    const file = path.join(disk.folder, "settings.json");
    const schema = z.object({ version: z.literal(1), note: z.string() });
    await writeJsonAtomic(file, { version: 1, note: "old" });
    await fillDisk(disk.folder, 0);
    await expect(writeJsonAtomic(file, { version: 1, note: "n".repeat(20_000) })).rejects.toMatchObject({ code: "ENOSPC" });
    expect(await readJsonFile(file, schema, { version: 1, note: "fallback" })).toEqual({ version: 1, note: "old" });
    expect((await fs.readdir(disk.folder)).sort()).toEqual(["filler", "settings.json"]);
  });
});
