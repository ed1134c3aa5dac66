// Saved system prompts and the chat view's token counts, on a real core with a real engine
// and stories260K: prompts kept in the data folder across restarts, unique names and length
// limits refused with a code and figures, a damaged file costing nothing else; counts made by
// the model's tokenizer and template, equal to what the reply's prompt then holds, the same
// after an engine restart, "not available" without a model.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PROMPT_NAME_CHARS, MAX_SYSTEM_PROMPT_CHARS } from "../../electron/contract/api.js";
import type { ChatContextCount, CoreEvent, DraftTokenCount } from "../../electron/contract/types.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";
import { connectRenderer } from "../support/renderer-link.js";

let models: string;
let home: string;
let harness: CoreHarness | null = null;

function running(): CoreHarness {
  if (!harness) throw new Error("no core");
  return harness;
}

async function restartCore(): Promise<CoreHarness> {
  await harness?.close();
  harness = await startCore([models], { home, sampling: { maxTokens: 48 } });
  return harness;
}

async function loadStories(contextSize?: number): Promise<void> {
  const core = running().core;
  const found = (await core.api.listModels()).find((model) => model.fileName === "stories260K.gguf");
  if (!found) throw new Error("stories260K.gguf is not in the library");
  await core.api.loadModel({ modelId: found.id, ...(contextSize === undefined ? {} : { contextSize }) });
}

function counted<T extends ChatContextCount | DraftTokenCount>(count: T): Extract<T, { counted: true }> {
  if (!count.counted) throw new Error(`not counted: ${count.missing}`);
  return count as Extract<T, { counted: true }>;
}

beforeAll(async () => {
  models = await tempDir("models");
  home = await tempDir("home");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await restartCore();
});

afterAll(async () => {
  await harness?.close();
  await fs.rm(models, { recursive: true, force: true });
  await fs.rm(home, { recursive: true, force: true });
});

describe("saved system prompts", () => {
  it("are saved, listed by name, changed and deleted, and still there after a restart", async () => {
    const link = connectRenderer(running().core);
    try {
      const pirate = await link.api.saveSystemPrompt({ name: "  Pirate ", text: "Answer as a pirate would." });
      expect(pirate).toMatchObject({ name: "Pirate", text: "Answer as a pirate would." });
      const brief = await link.api.saveSystemPrompt({ name: "Brief", text: "Answer in one sentence." });
      expect((await link.api.listSystemPrompts()).map((prompt) => prompt.name)).toEqual(["Brief", "Pirate"]);

      const edited = await link.api.saveSystemPrompt({ id: pirate.id, name: "Pirate captain", text: "Answer as a pirate captain." });
      expect(edited).toMatchObject({ id: pirate.id, name: "Pirate captain", createdAt: pirate.createdAt });
      await link.api.deleteSystemPrompt({ id: brief.id });
    } finally {
      link.close();
    }
    await restartCore();
    const after = await running().core.api.listSystemPrompts();
    expect(after.map(({ name, text }) => ({ name, text }))).toEqual([{ name: "Pirate captain", text: "Answer as a pirate captain." }]);
    const stored = JSON.parse(await fs.readFile(path.join(home, "system-prompts.json"), "utf8")) as { prompts: unknown[] };
    expect(stored.prompts).toHaveLength(1);
  });

  it("refuses a name already taken (whatever its case) and lengths past the limits, with a code and figures", async () => {
    const link = connectRenderer(running().core);
    try {
      await expect(link.api.saveSystemPrompt({ name: "PIRATE captain", text: "Arr." })).rejects.toMatchObject({
        code: "name_taken",
        params: { reason: "system_prompt", name: "Pirate captain" },
      });
      const [existing] = await link.api.listSystemPrompts();
      const other = await link.api.saveSystemPrompt({ name: "Other", text: "Other text." });
      await expect(link.api.saveSystemPrompt({ id: other.id, name: "pirate CAPTAIN", text: "x" })).rejects.toMatchObject({
        code: "name_taken",
      });
      // Renaming a prompt to its own name in another case is no clash.
      expect(await link.api.saveSystemPrompt({ id: existing?.id ?? "", name: "Pirate Captain", text: "Arr." })).toMatchObject({
        name: "Pirate Captain",
      });
      await expect(link.api.saveSystemPrompt({ name: "   ", text: "Text." })).rejects.toMatchObject({
        code: "invalid_request",
        params: { reason: "prompt_name_empty" },
      });
      await expect(link.api.saveSystemPrompt({ name: "n".repeat(MAX_PROMPT_NAME_CHARS + 1), text: "Text." })).rejects.toMatchObject({
        code: "invalid_request",
        params: { reason: "prompt_name_too_long", max: MAX_PROMPT_NAME_CHARS },
      });
      await expect(link.api.saveSystemPrompt({ name: "Long", text: "t".repeat(MAX_SYSTEM_PROMPT_CHARS + 1) })).rejects.toMatchObject({
        code: "invalid_request",
        params: { reason: "prompt_text_too_long", max: MAX_SYSTEM_PROMPT_CHARS },
      });
      await expect(link.api.deleteSystemPrompt({ id: "nosuchprompt" })).rejects.toMatchObject({ code: "not_found" });
      await link.api.deleteSystemPrompt({ id: other.id });
      expect((await link.api.listSystemPrompts()).map((prompt) => prompt.name)).toEqual(["Pirate Captain"]);
    } finally {
      link.close();
    }
  });

  it("keeps the readable entries of a damaged file, keeps the file as it was, and touches no other setting", async () => {
    const core = running().core;
    const chat = await core.api.createChat();
    await core.api.updateChatSettings({ chatId: chat.id, settings: { ...chat.settings, systemPrompt: "Kept.", contextSize: 512 } });
    const file = path.join(home, "system-prompts.json");
    const good = (JSON.parse(await fs.readFile(file, "utf8")) as { prompts: unknown[] }).prompts[0];
    await fs.writeFile(
      file,
      JSON.stringify({ version: 1, prompts: [good, { id: "bad", name: "", text: 5 }, { id: "x2", name: "pirate captain", text: "dup" }] }),
    );
    await restartCore();
    expect((await running().core.api.listSystemPrompts()).map((prompt) => prompt.name)).toEqual(["Pirate Captain"]);
    const aside = (await fs.readdir(home)).filter((name) => name.startsWith("system-prompts.json.damaged-"));
    expect(aside).toHaveLength(1);
    expect(await fs.readFile(path.join(home, aside[0] ?? ""), "utf8")).toContain('"id":"bad"');
    expect((await running().core.api.getChat({ chatId: chat.id })).settings).toMatchObject({ systemPrompt: "Kept.", contextSize: 512 });

    // Not JSON at all: set aside whole, an empty list, and saving starts a new file.
    await running().close();
    harness = null;
    await fs.writeFile(file, '{"version":1,"prompts":[{"id":');
    await restartCore();
    expect(await running().core.api.listSystemPrompts()).toEqual([]);
    await running().core.api.saveSystemPrompt({ name: "Fresh", text: "Fresh text." });
    expect((await fs.readdir(home)).filter((name) => name.startsWith("system-prompts.json.damaged-"))).toHaveLength(2);
    expect((await running().core.api.getChat({ chatId: chat.id })).settings).toMatchObject({ systemPrompt: "Kept.", contextSize: 512 });
  });
});

describe("token counts", () => {
  let chatId: string;

  it("are not available (never 0) while no model is loaded", async () => {
    const core = running().core;
    await running().waitForEngine("idle");
    chatId = (await core.api.createChat()).id;
    expect(await core.api.countChatContext({ chatId })).toEqual({ counted: false, missing: "no_model_loaded" });
    expect(await core.api.countDraftTokens({ chatId, text: "Once upon a time" })).toEqual({ counted: false, missing: "no_model_loaded" });
  });

  it("count a message being typed as the reply's prompt will hold it, and the conversation as the context holds it", async () => {
    const core = running().core;
    await loadStories();
    const state = await core.api.getEngineState();
    const empty = counted(await core.api.countChatContext({ chatId }));
    // The window is the loaded context (the conversation sets no smaller one); nothing said yet, nothing used.
    expect(state.kind === "ready" ? state.model.contextSize : null).toBe(empty.contextSize);
    expect(empty.usedTokens).toBe(0);
    const window = empty.contextSize;

    const text = "Once upon a time, there was a little girl named Lily.";
    const short = counted(await core.api.countDraftTokens({ chatId, text: "Once" }));
    const draft = counted(await core.api.countDraftTokens({ chatId, text }));
    expect(draft.tokens).toBeGreaterThan(short.tokens);
    expect(draft.tokens).toBeLessThan(text.length);
    // The template adds its own tokens around the message.
    expect(draft.promptTokens).toBeGreaterThan(draft.tokens);
    expect(draft).toMatchObject({ contextSize: window, leftTokens: window - draft.promptTokens, fit: "fits", droppedMessages: 0 });

    const done = running().waitFor(isDone(chatId));
    await core.api.sendMessage({ chatId, text });
    const { message } = await done;
    // The count while typing is the prompt the reply then used, token for token.
    expect(message.stats?.promptTokens).toBe(draft.promptTokens);
    const after = counted(await core.api.countChatContext({ chatId }));
    expect(after.usedTokens).toBeGreaterThan(draft.promptTokens);
    expect(after.usedTokens).toBeLessThanOrEqual(draft.promptTokens + (message.stats?.generatedTokens ?? 0) + 8);
    expect(after.contextSize).toBe(window);
  });

  it("read the same after the engine restarts as before it", async () => {
    const h = running();
    const before = counted(await h.core.api.countChatContext({ chatId }));
    const pid = h.core.engine.pid;
    process.kill(pid as number, "SIGKILL");
    await h.waitFor((event): event is CoreEvent => event.type === "engine" && event.state.kind !== "ready");
    // While the engine is gone or coming back: not available, not 0.
    const meanwhile = await h.core.api.countChatContext({ chatId });
    expect(meanwhile.counted).toBe(false);
    await h.waitForEngine("ready", 90_000);
    expect(await h.core.api.countChatContext({ chatId })).toEqual(before);
  });

  it("follow the conversation's own smaller window, and say when a message would not fit", async () => {
    const core = running().core;
    const chat = await core.api.getChat({ chatId });
    await core.api.updateChatSettings({ chatId, settings: { ...chat.settings, contextSize: 128 } });
    const small = counted(await core.api.countChatContext({ chatId }));
    expect(small.contextSize).toBe(128);

    // Longer and longer: first it fits, then only without the oldest turns (the reply keeps 32 tokens free).
    let medium: Extract<DraftTokenCount, { counted: true }> | null = null;
    for (let sentences = 1; sentences < 20; sentences += 1) {
      const count = counted(await core.api.countDraftTokens({ chatId, text: "Lily went to the park. ".repeat(sentences) }));
      if (count.fit === "fits") {
        expect(count.leftTokens).toBeGreaterThanOrEqual(32);
        continue;
      }
      medium = count;
      break;
    }
    expect(medium?.fit).toBe("drops_turns");
    expect(medium?.droppedMessages).toBeGreaterThan(0);
    expect(medium?.leftTokens).toBeLessThan(32);

    // Too long even alone: the send would fail with context_overflow, as the count said.
    const long = "Lily went to the park and played with her ball. ".repeat(40);
    const tooLong = counted(await core.api.countDraftTokens({ chatId, text: long }));
    expect(tooLong).toMatchObject({ fit: "too_long", contextSize: 128 });
    expect(tooLong.leftTokens).toBeLessThan(0);
    const done = running().waitFor(isDone(chatId));
    await core.api.sendMessage({ chatId, text: long });
    expect((await done).message.error).toMatchObject({ code: "context_overflow" });
  });

  it("answer while a reply is being written, without waiting for it", async () => {
    const h = running();
    await h.close();
    harness = await startCore([models], { home, sampling: { maxTokens: 100_000 } });
    await loadStories(2048);
    const core = running().core;
    const other = (await core.api.createChat()).id;
    const firstDelta = running().waitFor(
      (event): event is Extract<CoreEvent, { type: "generation.delta" }> => event.type === "generation.delta" && event.chatId === other,
    );
    const done = running().waitFor(isDone(other), 120_000);
    let finished = false;
    void done.then(() => (finished = true));
    await core.api.sendMessage({ chatId: other, text: "Tell me a long story." });
    await firstDelta;
    const count = await core.api.countDraftTokens({ chatId: other, text: "And then?" });
    expect(count.counted).toBe(true);
    expect(finished).toBe(false);
    await core.api.stopGeneration({ chatId: other });
    await done;
  });
});
