// Several renderers (tabs) on one real core and engine, each through the real connect(): a
// reply's start, text and end reach every tab, a tab connecting mid-reply catches up with the
// text so far and then streams, a refused send names the conversation that holds the engine,
// any tab stops the reply, and a tab that closes mid-reply neither stops nor loses it.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, CoreEvent, GenerationActivity } from "../../electron/contract/types.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import { connectRenderer, type RendererLink } from "../support/renderer-link.js";

type Delta = Extract<CoreEvent, { type: "generation.delta" }>;
type Started = Extract<CoreEvent, { type: "generation.started" }>;
type Activity = Extract<CoreEvent, { type: "generation.activity" }>;

let models: string;
let harness: CoreHarness;

beforeAll(async () => {
  models = await tempDir("tabs-models");
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(models, "llama-2-tiny-random.gguf"));
  // The tiny random Llama talks until stopped; no checkpoint during the test, so a tab that
  // catches up is served the live reply, not a saved copy of it.
  harness = await startCore([models], { sampling: { maxTokens: 1_000_000 }, contextSize: 32_768, checkpointMs: 600_000 });
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === "llama-2-tiny-random.gguf");
  if (!model) throw new Error("the tiny model is not in the library");
  await harness.core.api.loadModel({ modelId: model.id });
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
});

/** The text a tab has streamed for one reply. */
function streamed(link: RendererLink, messageId: string): string {
  return link.events
    .filter((event): event is Delta => event.type === "generation.delta" && event.messageId === messageId)
    .map((event) => event.text)
    .join("");
}

/** The first event so far that matches, else the next one. */
async function seen<T extends CoreEvent>(link: RendererLink, predicate: (event: CoreEvent) => event is T): Promise<T> {
  return link.events.find(predicate) ?? link.waitFor(predicate);
}

function deltaOf(messageId: string) {
  return (event: CoreEvent): event is Delta => event.type === "generation.delta" && event.messageId === messageId && event.text !== "";
}

describe("a conversation open in several tabs", () => {
  it("streams to every tab, catches a late tab up, names the busy chat, survives a closed tab and stops from another", async () => {
    const first = connectRenderer(harness.core);
    const second = connectRenderer(harness.core);
    const chat = await first.api.createChat();

    const sent = await first.api.sendMessage({ chatId: chat.id, text: "Tell me a very long story." });
    // The other tab learns of the reply before any of its text: both messages, the reply streaming.
    const started = await seen(second, (event): event is Started => event.type === "generation.started" && event.chatId === chat.id);
    expect(started.userMessage).toEqual(sent.userMessage);
    expect(started.message).toMatchObject({ id: sent.assistantMessageId, status: "streaming", parentId: sent.userMessage.id });
    const before = second.events.indexOf(started);
    expect(second.events.slice(0, before).some(deltaOf(sent.assistantMessageId))).toBe(false);

    // The engine's work is named for every tab: this conversation, by its title.
    const running = (activity: GenerationActivity) => activity.running?.kind === "chat" && activity.running.chatId === chat.id;
    const announced = await seen(second, (event): event is Activity => event.type === "generation.activity" && running(event.activity));
    expect(announced.activity.running).toMatchObject({
      kind: "chat",
      title: "Tell me a very long story.",
      messageId: sent.assistantMessageId,
    });
    const requestId = announced.activity.running?.requestId ?? "";
    expect(await second.api.getGenerationActivity()).toEqual(announced.activity);

    await seen(second, deltaOf(sent.assistantMessageId));
    // A tab opening the conversation now (long before any checkpoint) gets the reply as it stands...
    const late = connectRenderer(harness.core);
    const caughtUp = await late.api.getChat({ chatId: chat.id });
    const live = caughtUp.messages.at(-1);
    expect(live).toMatchObject({ id: sent.assistantMessageId, status: "streaming" });
    expect(live?.text.length).toBeGreaterThan(0);
    expect(caughtUp.messages.at(-2)?.id).toBe(sent.userMessage.id);

    // ...a send there is refused, naming the conversation that holds it and the request to stop...
    const refused = await late.api.sendMessage({ chatId: chat.id, text: "And another." }).then(
      () => null,
      (error: unknown) => error as { code?: string; params?: Record<string, unknown> },
    );
    expect(refused?.code).toBe("busy");
    const named = { reason: "replyInChat", chatId: chat.id, title: "Tell me a very long story.", requestId };
    expect(refused?.params).toEqual(named);
    // So is deleting it, or ejecting the model from under it.
    for (const call of [() => late.api.deleteChat({ chatId: chat.id }), () => late.api.unloadModel()]) {
      const busy = await call().then(
        () => null,
        (error: unknown) => error as { code?: string; params?: Record<string, unknown> },
      );
      expect(busy).toMatchObject({ code: "busy", params: named });
    }

    // ...and the tab that sent it closes: the reply goes on (the other tabs still get its text).
    first.close();
    const afterClose = second.events.length;
    await second.waitFor(deltaOf(sent.assistantMessageId));
    await second.waitFor(deltaOf(sent.assistantMessageId));
    expect(second.events.length).toBeGreaterThan(afterClose);
    expect((await second.api.getGenerationActivity()).running?.requestId).toBe(requestId);

    // Stopped from the late tab, by the request it was shown: the reply ends for every tab, marked stopped.
    const doneInSecond = second.waitFor(isDone(chat.id));
    const doneInLate = late.waitFor(isDone(chat.id));
    await late.api.stopGenerationRequest({ requestId });
    const { message } = await doneInSecond;
    expect((await doneInLate).message).toEqual(message);
    expect(message).toMatchObject({ id: sent.assistantMessageId, status: "stopped" });
    expect(message.stats?.stopReason).toBe("stopped");
    // Every delta reached each tab: what they streamed is the reply (the late tab from where it caught up).
    expect(streamed(second, message.id)).toBe(message.text);
    expect((live?.text ?? "") + streamed(late, message.id)).toBe(message.text);
    // The engine is free again, and every tab was told so (before the reply was saved).
    const idle = second.events.filter((event): event is Activity => event.type === "generation.activity").at(-1);
    expect(idle?.activity).toEqual({ running: null, waiting: 0 });

    // Saved as a stop from the sending tab would save it.
    const store = new ChatStore(path.join(harness.home, "chats"));
    await store.load();
    const saved: ChatMessage | undefined = store.get(chat.id).messages.at(-1);
    expect(saved).toMatchObject({ id: message.id, status: "stopped", text: message.text });
    second.close();
    late.close();
  });
});
