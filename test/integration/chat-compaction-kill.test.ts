// A process saving long replies (the same message again and again, as checkpoints do) to a
// conversation whose log it compacts every few saves is killed with SIGKILL, many times, at a
// random moment: during an append, while a compaction writes its copy, flushes it, renames it.
// Reopened each time, the store has every message at least as long as last reported saved.

import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { DIST, REPO_ROOT, tempDir } from "../support/paths.js";

const COMPACTOR = path.join(REPO_ROOT, "test", "fixtures", "chat-compactor.mjs");
const STORE_MODULE = path.join(DIST, "electron", "core", "chats", "chat-store.js");
const ROUNDS = 12;

let folder = "";
afterAll(async () => {
  if (folder) await fs.rm(folder, { recursive: true, force: true });
});

/** Runs the compactor until it has reported `count` saves, then kills it within a few milliseconds. */
function saveUntilKilled(
  chatArg: string,
  round: number,
  count: number,
): Promise<{ chatId: string; saved: Map<string, number>; appended: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COMPACTOR, STORE_MODULE, folder, chatArg, String(round)], { stdio: ["ignore", "pipe", "pipe"] });
    let chatId = chatArg;
    const saved = new Map<string, number>();
    let reports = 0;
    let appended = 0;
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
        const match = /^saved (\S+) (\d+)$/.exec(line);
        if (match) {
          saved.set(match[1] as string, Number(match[2]));
          appended += Number(match[2]);
          reports += 1;
        }
      }
      if (reports >= count && !killing) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.random() * 8);
      }
    });
    // "close", not "exit": the reports still in the pipe at the kill are read first.
    child.once("close", (code, signal) => {
      if (signal === "SIGKILL") resolve({ chatId, saved, appended });
      else reject(new Error(`the compactor exited with ${code}: ${errors}`));
    });
  });
}

describe("compacting a conversation's log under SIGKILL", () => {
  it(`loses nothing reported saved over ${ROUNDS} kills at random points of appends and compactions`, async () => {
    folder = await tempDir("chats-compact-kill");
    const saved = new Map<string, number>();
    let chatId = "new";
    let appended = 0;
    let live = 0;
    for (let round = 1; round <= ROUNDS; round += 1) {
      const result = await saveUntilKilled(chatId, round, 6 + Math.floor(Math.random() * 14));
      chatId = result.chatId;
      for (const [id, length] of result.saved) saved.set(id, length);
      appended += result.appended;

      const store = new ChatStore(folder, () => undefined);
      await store.load();
      const messages = store.allMessages(chatId);
      live = messages.reduce((sum, message) => sum + message.text.length, 0);
      const byId = new Map(messages.map((message) => [message.id, message]));
      for (const [id, length] of saved) {
        const message = byId.get(id);
        expect(message, `round ${round}: message ${id}`).toBeDefined();
        expect(message?.text.length, `round ${round}: message ${id}`).toBeGreaterThanOrEqual(length);
        expect(message?.text.startsWith(`${id} once upon a time`)).toBe(true);
      }
      // A copy a kill interrupted is removed at load, never taken for a conversation.
      expect((await fs.readdir(folder)).filter((name) => name.endsWith(".compacting"))).toEqual([]);
    }
    const { size } = await fs.stat(path.join(folder, `${chatId}.jsonl`));
    console.log(
      `compaction kill test: ${ROUNDS} kills, ${saved.size} replies, ${(appended / 1e6).toFixed(1)} MB of saves reported, ` +
        `log ${(size / 1e6).toFixed(2)} MB for ${(live / 1e6).toFixed(2)} MB of live text`,
    );
    // The log was compacted: within twice the text it holds (and one reply's slack), far below everything appended.
    expect(size).toBeLessThan(2 * live + 300_000);
    expect(size).toBeLessThan(appended / 2);
  });
});
