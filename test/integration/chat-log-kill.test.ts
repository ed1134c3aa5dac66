// A process appending to a conversation is killed with SIGKILL, three times over, at
// whatever moment the kill lands (a random few milliseconds after a save was reported:
// during the next append, its datasync, or between appends). Reopened, the store has
// every message the process had reported saved, whole, and keeps appending after the damage.

import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readChatLog } from "../../electron/core/chats/chat-log.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { DIST, REPO_ROOT, tempDir } from "../support/paths.js";

const APPENDER = path.join(REPO_ROOT, "test", "fixtures", "chat-appender.mjs");
const STORE_MODULE = path.join(DIST, "electron", "core", "chats", "chat-store.js");

let folder = "";
afterAll(async () => {
  if (folder) await fs.rm(folder, { recursive: true, force: true });
});

/** Runs the appender until it has reported `count` saves, then kills it with SIGKILL at once. */
function appendUntilKilled(chatArg: string, round: number, count: number): Promise<{ chatId: string; saved: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APPENDER, STORE_MODULE, folder, chatArg, String(round)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let chatId = chatArg;
    const saved: string[] = [];
    let buffer = "";
    let errors = "";
    let killing = false;
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("chat ")) chatId = line.slice(5);
        if (line.startsWith("saved ")) saved.push(line.slice(6));
      }
      if (saved.length >= count && !killing) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.random() * 4);
      }
    });
    // "close", not "exit": the reports still in the pipe at the kill are read first.
    child.once("close", (code, signal) => {
      if (signal === "SIGKILL") resolve({ chatId, saved });
      else reject(new Error(`the appender exited with ${code}: ${errors}`));
    });
  });
}

describe("a conversation log under SIGKILL", () => {
  it("has every message reported saved after three kills mid-append, and appends after the damage", async () => {
    folder = await tempDir("chats-kill");
    const first = await appendUntilKilled("new", 1, 12);
    const chatId = first.chatId;
    const second = await appendUntilKilled(chatId, 2, 8);
    const third = await appendUntilKilled(chatId, 3, 8);
    const saved = [...first.saved, ...second.saved, ...third.saved];
    expect(saved.length).toBeGreaterThanOrEqual(28);

    const warnings: string[] = [];
    const store = new ChatStore(folder, (warning) => warnings.push(warning));
    await store.load();
    const chat = store.get(chatId);
    const byId = new Map(chat.messages.map((message) => [message.id, message]));
    for (const id of saved) {
      const message = byId.get(id);
      expect(message, `message ${id}`).toBeDefined();
      expect(message?.text.startsWith(`${id} the quick brown fox`)).toBe(true);
      expect(message?.text.length).toBeGreaterThan(90_000);
    }
    // The branch on show is unbroken: each message follows the one before it.
    chat.messages.forEach((message, index) => expect(message.parentId ?? null).toBe(chat.messages[index - 1]?.id ?? null));

    // Lines the kills tore are the only ones skipped (at most one per kill).
    const log = await readChatLog(path.join(folder, `${chatId}.jsonl`));
    expect(log.skipped).toBeLessThanOrEqual(3);
    console.log(
      `chat log kill test: ${saved.length} messages reported saved, ${chat.messages.length} read back, ` +
        `${log.skipped} torn line(s) skipped`,
    );

    await store.saveMessage(chatId, {
      id: "after",
      role: "user",
      text: "written after the kills",
      createdAt: new Date().toISOString(),
      status: "complete",
      modelId: null,
      stats: null,
      error: null,
      parentId: store.leaf(chatId),
    });
    const reopened = new ChatStore(folder, () => undefined);
    await reopened.load();
    expect(reopened.get(chatId).messages.at(-1)?.text).toBe("written after the kills");
    expect(reopened.get(chatId).messages.length).toBe(chat.messages.length + 1);
  });
});
