// A conversation that outgrows its context window, on the real core and engine, as a person
// chats on: every reply gets its full length (none stops at "context full" because the prompt
// filled the window), the oldest turns are left out in cuts that several replies share (their
// prompts start alike, so the engine's cache is used again), the composer's count says
// beforehand how many turns the reply will leave out, and the context meter counts what the
// context holds, not turns already left out.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../electron/contract/types.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";

const MAX_TOKENS = 100;
const WINDOW = 512;

let models: string;
let harness: CoreHarness;

beforeAll(async () => {
  models = await tempDir("long-chat-models");
  // Random weights: a reply runs to its token limit (an end token is one chance in 32,000 per token).
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(models, "tiny-random.gguf"));
  harness = await startCore([models], { sampling: { maxTokens: MAX_TOKENS, seed: 5 } });
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === "tiny-random.gguf");
  if (!model) throw new Error("tiny-random.gguf is not in the library");
  await harness.core.api.loadModel({ modelId: model.id, contextSize: WINDOW });
});

afterAll(async () => {
  /* eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning it */
  await harness?.close();
  await fs.rm(models, { recursive: true, force: true });
});

describe("a conversation longer than its context window", () => {
  it("gives every reply its full length, shares each cut among several replies, and counts the cut beforehand", async () => {
    const { api } = harness.core;
    const chatId = (await api.createChat()).id;
    await api.updateChatSettings({ chatId, settings: { systemPrompt: "You answer briefly." } });
    const replies: ChatMessage[] = [];
    for (let turn = 0; turn < 12; turn += 1) {
      const text = `Part ${turn}: and then what happened?`;
      const count = await api.countDraftTokens({ chatId, text });
      if (!count.counted) throw new Error(`not counted: ${count.missing}`);
      const done = harness.waitFor(isDone(chatId));
      await api.sendMessage({ chatId, text });
      const { message } = await done;
      expect(message.status).toBe("complete");
      // The full length: the prompt always leaves room for it.
      expect(message.stats?.stopReason).not.toBe("context_full");
      if (message.stats?.stopReason === "max_tokens") expect(message.stats.generatedTokens).toBe(MAX_TOKENS);
      // What the composer said before sending is what the reply did.
      expect(count.droppedMessages).toBe(message.provenance?.droppedMessages);
      expect(count.fit).toBe((message.provenance?.droppedMessages ?? 0) > 0 ? "drops_turns" : "fits");
      // The context meter counts what the context holds now: the reply's prompt, less the
      // template's opening of the reply, and the reply (its text tokenized again).
      const held = await api.countChatContext({ chatId });
      if (!held.counted) throw new Error(`not counted: ${held.missing}`);
      expect(held.usedTokens).toBeLessThanOrEqual(WINDOW);
      expect(held.usedTokens).toBeGreaterThan(message.stats?.promptTokens ?? Infinity);
      replies.push(message);
    }
    const cuts = replies.map((message) => message.provenance?.droppedMessages ?? 0);
    // The window filled, and turns were left out.
    expect(Math.max(...cuts)).toBeGreaterThan(0);
    // A cut once made is never undone while the conversation goes on, and replies share cuts.
    for (let index = 1; index < cuts.length; index += 1) expect(cuts[index]).toBeGreaterThanOrEqual(cuts[index - 1] ?? 0);
    const shared = cuts.filter((cut, index) => cut > 0 && cut === cuts[index - 1]).length;
    expect(shared).toBeGreaterThan(0);
    // The system prompt is always there.
    expect(replies.every((message) => message.provenance?.systemPrompt === "You answer briefly.")).toBe(true);
  });
});
