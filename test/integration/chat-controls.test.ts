// The real core and engine with stories260K: per-conversation settings reach the engine
// (sampling, system prompt, context window, chat template), each reply records the model
// file and settings that produced it, a conversation that outgrows its context drops its
// oldest turns instead of failing, a message longer than the context fails clearly with the
// message kept, edits and regenerations become versions, and a model file deleted mid-
// conversation does not stop the chat.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLING_PRESETS } from "../../electron/contract/chat-settings.js";
import type { ChatMessage, ChatSettings } from "../../electron/contract/types.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let models: string;
let modelFile: string;
let harness: CoreHarness;

beforeAll(async () => {
  models = await tempDir("controls-models");
  modelFile = path.join(models, "stories260K.gguf");
  await fs.copyFile(STORIES_MODEL, modelFile);
  harness = await startCore([models], { sampling: { maxTokens: 24 }, checkpointMs: 100 });
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === "stories260K.gguf");
  if (!model) throw new Error("stories260K is not in the library");
  await harness.core.api.loadModel({ modelId: model.id });
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
});

async function reply(chatId: string, start: () => Promise<{ assistantMessageId: string }>): Promise<ChatMessage> {
  const done = harness.waitFor(isDone(chatId));
  const { assistantMessageId } = await start();
  const { message } = await done;
  expect(message.id).toBe(assistantMessageId);
  return message;
}

const STORY_LINE = "Once upon a time there was a little girl named Lily who loved to play in the park with her red ball. ";

describe("per-conversation generation controls", () => {
  let chatId: string;

  it("uses the conversation's preset, overrides, system prompt, context and template, and records them per reply", async () => {
    chatId = (await harness.core.api.createChat()).id;
    const settings: ChatSettings = {
      systemPrompt: "You tell short stories.",
      preset: "precise",
      overrides: { temperature: 0.3, seed: 7 },
      contextSize: 256,
      chatTemplate: "chatML",
    };
    await harness.core.api.updateChatSettings({ chatId, settings });
    const message = await reply(chatId, () => harness.core.api.sendMessage({ chatId, text: "Tell me about a cat." }));
    expect(message.status).toBe("complete");
    const stat = await fs.stat(modelFile);
    expect(message.provenance).toEqual({
      model: { fileName: "stories260K.gguf", quantization: "F32", sizeBytes: stat.size, mtimeMs: stat.mtimeMs },
      // The test's maxTokens sits under the conversation's overrides, over the preset.
      sampling: { ...SAMPLING_PRESETS.precise, maxTokens: 24, temperature: 0.3, seed: 7 },
      systemPrompt: "You tell short stories.",
      contextSize: 256,
      chatTemplate: "ChatML",
      droppedMessages: 0,
    });
    expect(message.stats?.generatedTokens).toBeLessThanOrEqual(24);
    expect(message.stats?.promptTokens).toBeGreaterThan(0);
    expect(message.stats?.stopReason).toMatch(/^(end|max_tokens)$/);

    // Provenance is on disk: a reopened core reads it back.
    const saved = (await harness.core.api.getChat({ chatId })).messages.at(-1);
    expect(saved?.provenance?.chatTemplate).toBe("ChatML");
  });

  it("leaves out the oldest turns (never the system prompt) when the conversation outgrows its context", async () => {
    let last: ChatMessage | null = null;
    for (let turn = 0; turn < 6 && (last?.provenance?.droppedMessages ?? 0) === 0; turn += 1) {
      last = await reply(chatId, () => harness.core.api.sendMessage({ chatId, text: `${turn}: ${STORY_LINE.repeat(2)}` }));
      expect(last.status).toBe("complete");
    }
    expect(last?.provenance?.droppedMessages).toBeGreaterThan(0);
    expect(last?.stats?.promptTokens).toBeLessThanOrEqual(256);
    expect(last?.provenance?.systemPrompt).toBe("You tell short stories.");
  });

  it("fails a message longer than the context with a clear error and keeps the message", async () => {
    const text = STORY_LINE.repeat(30);
    const message = await reply(chatId, () => harness.core.api.sendMessage({ chatId, text }));
    expect(message.status).toBe("failed");
    expect(message.error?.code).toBe("context_overflow");
    expect(message.error?.message).toMatch(/context window holds 256/);
    const chat = await harness.core.api.getChat({ chatId });
    expect(chat.messages.some((m) => m.role === "user" && m.text === text)).toBe(true);
  });

  it("makes edits and regenerated replies versions of the original", async () => {
    const id = (await harness.core.api.createChat()).id;
    const first = await reply(id, () => harness.core.api.sendMessage({ chatId: id, text: "The dog ran." }));
    const userId = first.parentId ?? "";
    const again = await reply(id, () => harness.core.api.regenerateReply({ chatId: id, messageId: first.id }));
    expect(again.parentId).toBe(userId);
    let chat = await harness.core.api.getChat({ chatId: id });
    expect(chat.messages.map((m) => m.id)).toEqual([userId, again.id]);
    expect(chat.versions[again.id]).toEqual([first.id, again.id]);

    const edited = await reply(id, () => harness.core.api.editMessage({ chatId: id, messageId: userId, text: "The cat ran." }));
    chat = await harness.core.api.getChat({ chatId: id });
    expect(chat.messages.map((m) => m.text)).toEqual(["The cat ran.", edited.text]);
    expect(chat.versions[chat.messages[0]?.id ?? ""]).toHaveLength(2);

    chat = await harness.core.api.selectVersion({ chatId: id, messageId: userId });
    expect(chat.messages.map((m) => m.id)).toEqual([userId, again.id]);
    await expect(harness.core.api.regenerateReply({ chatId: id, messageId: userId })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("refuses a second start while a reply runs, whichever call starts it", async () => {
    const id = (await harness.core.api.createChat()).id;
    const done = harness.waitFor(isDone(id));
    const sent = await harness.core.api.sendMessage({ chatId: id, text: "One." });
    await expect(harness.core.api.sendMessage({ chatId: id, text: "Two." })).rejects.toMatchObject({ code: "busy" });
    await expect(harness.core.api.regenerateReply({ chatId: id, messageId: sent.assistantMessageId })).rejects.toMatchObject({
      code: "busy",
    });
    await expect(harness.core.api.deleteChat({ chatId: id })).rejects.toMatchObject({ code: "busy" });
    await done;
  });

  it("checkpoints a long reply to disk while it is written; a store reopened from a mid-reply copy keeps it, marked", async () => {
    const id = (await harness.core.api.createChat()).id;
    await harness.core.api.updateChatSettings({
      chatId: id,
      settings: { systemPrompt: "", preset: "balanced", overrides: { maxTokens: 1800, seed: 3 }, contextSize: null, chatTemplate: null },
    });
    const done = harness.waitFor(isDone(id));
    const { assistantMessageId } = await harness.core.api.sendMessage({ chatId: id, text: "Once upon a time" });
    const file = path.join(harness.home, "chats", `${id}.jsonl`);
    const checkpointed = async () =>
      (await fs.readFile(file, "utf8"))
        .split("\n")
        .some((line) => line.includes(assistantMessageId) && line.includes('"status":"streaming"'));
    await expect.poll(checkpointed, { timeout: 20_000, interval: 20 }).toBe(true);
    // What the desktop app's files would hold had it been killed now.
    const copy = await tempDir("checkpoint-copy");
    await fs.copyFile(file, path.join(copy, `${id}.jsonl`));
    // The live reply, not the checkpoint, is what getChat shows while it is written.
    const live = (await harness.core.api.getChat({ chatId: id })).messages.at(-1);
    await harness.core.api.stopGeneration({ chatId: id });
    const { message } = await done;
    expect(live?.id).toBe(assistantMessageId);
    expect(live?.status).toBe("streaming");
    expect(message.text.startsWith(live?.text ?? "x")).toBe(true);

    const warnings: string[] = [];
    const reopened = new ChatStore(copy, (warning) => warnings.push(warning));
    await reopened.load();
    const partial = reopened.get(id).messages.at(-1);
    expect(partial?.id).toBe(assistantMessageId);
    expect(partial?.status).toBe("failed");
    expect(partial?.text.length).toBeGreaterThan(0);
    expect(message.text.startsWith(partial?.text ?? "x")).toBe(true);
    expect(partial?.error?.message).toMatch(/stopped while this reply was being written/);
    // The live core's own record ends with the finished reply.
    expect((await harness.core.api.getChat({ chatId: id })).messages.at(-1)).toMatchObject({ id: message.id, status: "stopped" });
    await fs.rm(copy, { recursive: true, force: true });
  });

  it("keeps chatting when the model's file is deleted mid-conversation (the model is in memory)", async () => {
    const id = (await harness.core.api.createChat()).id;
    await reply(id, () => harness.core.api.sendMessage({ chatId: id, text: "Hello." }));
    await fs.rm(modelFile);
    const message = await reply(id, () => harness.core.api.sendMessage({ chatId: id, text: "And then?" }));
    expect(message.status).toBe("complete");
    expect(message.provenance?.model.fileName).toBe("stories260K.gguf");
    expect((await harness.core.api.getChat({ chatId: id })).messages).toHaveLength(4);
  });
});
