// Loop: the core (core-child.ts, a process of its own with its engine) is SIGKILLed
// `iterations` times at a random moment while it sends messages and writes replies, and is
// started again on the same data folder each time. Passes when every message the UI was told
// was saved (a send answered, a reply reported done) is there, whole, at the end.

import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { DIST, STORIES_MODEL, tempDir } from "../support/paths.js";
import { messagesOnDisk } from "./soak-core.js";
import { between, type SoakResult } from "./soak-loop.js";

const CHILD = path.join(DIST, "test", "soak", "core-child.js");

interface Round {
  chatId: string | null;
  users: string[];
  replies: Map<string, number>;
  killedAfterMs: number;
}

function runUntilKilled(home: string): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, home, path.dirname(STORIES_MODEL)], { stdio: ["ignore", "pipe", "pipe"] });
    const round: Round = { chatId: null, users: [], replies: new Map(), killedAfterMs: 0 };
    let buffer = "";
    let errors = "";
    const giveUp = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.stderr.on("data", (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const [kind, id, length] = line.split(" ");
        if (kind === "chat" && id) round.chatId = id;
        if (kind === "user" && id) round.users.push(id);
        if (kind === "reply" && id) round.replies.set(id, Number(length));
        if (kind === "ready") {
          round.killedAfterMs = between(100, 4000);
          setTimeout(() => child.kill("SIGKILL"), round.killedAfterMs);
        }
      }
    });
    child.once("close", (code, signal) => {
      clearTimeout(giveUp);
      if (signal === "SIGKILL" && round.chatId !== null) resolve(round);
      else reject(new Error(`the core exited with ${code ?? signal} before it was killed: ${errors.slice(-2000)}`));
    });
  });
}

export async function coreKills({ iterations: kills }: { iterations: number }): Promise<SoakResult> {
  const home = await tempDir("soak-core-kills");
  try {
    const users: string[] = [];
    const replies = new Map<string, number>();
    let chatId = "";
    for (let index = 0; index < kills; index += 1) {
      const round = await runUntilKilled(home);
      chatId = round.chatId ?? chatId;
      users.push(...round.users);
      for (const [id, length] of round.replies) replies.set(id, length);
    }
    const { all } = await messagesOnDisk(home, chatId);
    const byId = new Map(all.map((message) => [message.id, message]));
    const lostUsers = users.filter((id) => !byId.has(id)).length;
    let lostReplies = 0;
    for (const [id, length] of replies) {
      const message = byId.get(id);
      if (!message || message.text.length !== length || (message.status !== "complete" && message.status !== "stopped")) lostReplies += 1;
    }
    const interrupted = all.filter((message) => message.status === "failed").length;
    return {
      name: "core killed, restarted",
      figures: {
        kills,
        "messages reported saved": users.length + replies.size,
        "replies cut by a kill (kept, marked failed)": interrupted,
        lost: lostUsers + lostReplies,
      },
      ok: lostUsers + lostReplies === 0 && users.length > 0,
    };
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}
