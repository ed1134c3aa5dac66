// The core with a real engine process and the real stories260K model: load, chat, stop,
// an engine killed mid-reply, and model files that are not what they claim to be.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CHAT_SETTINGS } from "../../electron/contract/chat-settings.js";
import { QuantaError } from "../../electron/contract/errors.js";
import type { CoreEvent, LoadedModel } from "../../electron/contract/types.js";
import { readChatLog } from "../../electron/core/chats/chat-log.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";

let models: string;
let harness: CoreHarness;

async function modelId(fileName: string): Promise<string> {
  const found = (await harness.core.api.listModels()).find((model) => model.fileName === fileName);
  if (!found) throw new Error(`${fileName} is not in the library`);
  return found.id;
}

async function rejection(promise: Promise<unknown>): Promise<QuantaError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(QuantaError);
    return error as QuantaError;
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  models = await tempDir("models");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(models, "llama-2-tiny-random.gguf"));
  await fs.writeFile(path.join(models, "notes.gguf"), "These are my notes, not a model.\n");
  const bytes = await fs.readFile(STORIES_MODEL);
  await fs.writeFile(path.join(models, "truncated.gguf"), bytes.subarray(0, Math.floor(bytes.length / 2)));
  // Replies are capped so that one that never ends stays quick; everything else is the app's default.
  harness = await startCore([models], { sampling: { maxTokens: 512 } });
  await harness.waitForEngine("idle");
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
});

describe("model library", () => {
  it("lists every .gguf with what its header says, and marks unreadable files", async () => {
    const list = await harness.core.api.listModels();
    const stories = list.find((model) => model.fileName === "stories260K.gguf");
    expect(stories).toMatchObject({ architecture: "llama", quantization: "F32", error: null });
    expect(stories?.parameterCount).toBeGreaterThan(200_000);
    expect(stories?.parameterCount).toBeLessThan(400_000);
    for (const name of ["notes.gguf", "truncated.gguf"]) {
      const broken = list.find((model) => model.fileName === name);
      expect(broken?.error?.code).toBe("model_invalid");
      expect(broken?.error?.message).toContain(name);
    }
  });

  it("refuses to load a file that is not a valid GGUF, with a clear error, and keeps working", async () => {
    for (const name of ["notes.gguf", "truncated.gguf"]) {
      const error = await rejection(harness.core.api.loadModel({ modelId: await modelId(name) }));
      expect(error.code).toBe("model_invalid");
      expect(error.message).toContain(name);
    }
    expect((await harness.core.api.getEngineState()).kind).toBe("idle");
  });

  it("refuses an id it does not know", async () => {
    const error = await rejection(harness.core.api.loadModel({ modelId: "0123456789abcdef" }));
    expect(error.code).toBe("not_found");
  });
});

describe("chat with stories260K", () => {
  let loaded: LoadedModel;
  let chatId: string;

  it("loads the model, measuring the thread count first", async () => {
    loaded = await harness.core.api.loadModel({ modelId: await modelId("stories260K.gguf") });
    expect(loaded.threadsSource).toBe("calibrated");
    expect(loaded.calibration?.trials.length).toBeGreaterThanOrEqual(1);
    expect(loaded.calibration?.trials.map((trial) => trial.threads)).toContain(loaded.threads);
    const state = await harness.core.api.getEngineState();
    expect(state.kind).toBe("ready");
    const phases = harness.events.flatMap((event) =>
      event.type === "engine" && event.state.kind === "loading" ? [event.state.phase] : [],
    );
    expect(phases).toContain("calibrating");
  });

  it("remembers the measured thread count for the next load", async () => {
    const again = await harness.core.api.loadModel({ modelId: loaded.modelId });
    expect(again.threadsSource).toBe("remembered");
    expect(again.threads).toBe(loaded.threads);
  });

  it("streams a reply in deltas and saves both messages to disk", async () => {
    chatId = (await harness.core.api.createChat()).id;
    const deltas: string[] = [];
    const stop = harness.core.onEvent((event: CoreEvent) => {
      if (event.type === "generation.delta" && event.chatId === chatId) deltas.push(event.text);
    });
    const done = harness.waitFor(isDone(chatId));
    const sent = await harness.core.api.sendMessage({ chatId, text: "Once upon a time there was a little dog." });
    const { message } = await done;
    stop();
    expect(message.id).toBe(sent.assistantMessageId);
    expect(message.status).toBe("complete");
    expect(message.text.length).toBeGreaterThan(0);
    expect(deltas.join("")).toBe(message.text);
    expect(message.stats?.generatedTokens).toBeGreaterThan(0);
    expect(message.stats?.tokensPerSecond).toBeGreaterThan(0);
    expect(message.stats?.threads).toBe(loaded.threads);

    const chat = await harness.core.api.getChat({ chatId });
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(chat.title).toBe("Once upon a time there was a little dog.");
    const log = await readChatLog(path.join(harness.home, "chats", `${chatId}.jsonl`));
    expect(log.skipped).toBe(0);
    // Both messages are on disk, the reply as it finished (a slow machine may also have checkpointed it mid-reply).
    const saved = new Map(log.events.flatMap((event) => (event.type === "message" ? [[event.message.id, event.message] as const] : [])));
    expect([...saved.keys()]).toEqual(chat.messages.map((m) => m.id));
    expect(saved.get(message.id)?.status).toBe("complete");
    expect(saved.get(message.id)?.text).toBe(message.text);
  });

  it("refuses a second send while a reply is running", async () => {
    const done = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "And then?" });
    const busy = await rejection(harness.core.api.sendMessage({ chatId, text: "Hello again" }));
    expect(busy.code).toBe("busy");
    await done;
  });

  it("never forks a conversation when two clients keep sending to it, retrying while it is busy", async () => {
    // Two browser tabs on one conversation, each sending again the moment it is told "busy":
    // a send that lands while the last reply is being saved must wait, not attach to the
    // message before that reply (a fork the UI cannot show).
    const id = (await harness.core.api.createChat()).id;
    await harness.core.api.updateChatSettings({ chatId: id, settings: { ...DEFAULT_CHAT_SETTINGS, overrides: { maxTokens: 4 } } });
    const sendsPerClient = 8;
    async function client(name: string): Promise<void> {
      for (let n = 0; n < sendsPerClient; n += 1) {
        for (;;) {
          try {
            await harness.core.api.sendMessage({ chatId: id, text: `${name} ${n}` });
            break;
          } catch (error) {
            if ((error as QuantaError).code !== "busy") throw error;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      }
    }
    await Promise.all([client("A"), client("B")]);
    const replies = () => harness.events.filter((event) => event.type === "generation.done" && event.chatId === id).length;
    await expect.poll(replies, { timeout: 60_000, interval: 20 }).toBe(2 * sendsPerClient);

    const all = await harness.core.api.listAllMessages({ chatId: id });
    expect(all).toHaveLength(4 * sendsPerClient);
    // One line of messages: no two share a parent.
    expect(new Set(all.map((message) => message.parentId ?? null)).size).toBe(all.length);
    const chat = await harness.core.api.getChat({ chatId: id });
    expect(chat.messages.map((message) => message.role)).toEqual(all.map((_, index) => (index % 2 === 0 ? "user" : "assistant")));
    expect(chat.versions).toEqual({});
  });

  it("validates every call: unknown fields, wrong types and empty text are refused", async () => {
    const { validatingResolver } = await import("../../electron/contract/validation.js");
    const { requestSchemas } = await import("../../electron/contract/api.js");
    const resolve = validatingResolver(requestSchemas);
    const send = resolve("sendMessage", harness.core.api.sendMessage.bind(harness.core.api) as (...args: unknown[]) => unknown);
    for (const args of [[{ chatId, text: "   " }], [{ chatId, text: 5 }], [{ chatId, text: "hi", path: "/etc/passwd" }], []]) {
      expect(() => send(...args)).toThrow(QuantaError);
    }
    const unknown = resolve("__proto__", undefined);
    expect(() => unknown()).toThrow(/no method/);
  });
});

describe("an engine that dies while loading a model", () => {
  it("fails the load with a clear error, comes back idle, and does not retry the load by itself", async () => {
    // Killed while it measures thread counts: the engine is certainly inside the load then.
    const loading = harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "engine" }> =>
        event.type === "engine" && event.state.kind === "loading" && event.state.phase === "calibrating",
    );
    const load = harness.core.api.loadModel({ modelId: await modelId("llama-2-tiny-random.gguf") });
    await loading;
    const pid = harness.core.engine.pid;
    process.kill(pid as number, "SIGKILL");
    const error = await rejection(load);
    expect(error.code).toBe("engine_crashed");
    expect(error.message).toMatch(/stopped unexpectedly/);
    const failed = harness.events.find((event) => event.type === "engine" && event.state.kind === "failed");
    expect(failed).toBeDefined();
    await harness.waitForEngine("idle", 60_000);
    expect(harness.core.engine.pid).not.toBe(pid);
    // Loading the same file again would crash again if the file were at fault: only the user retries.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await harness.core.api.getEngineState()).kind).toBe("idle");
  });
});

// The tiny random Llama almost never ends a reply by itself: replies run until stopped.
describe("stopping and crashing, with a model that never stops talking", () => {
  let chatId: string;

  function firstDelta() {
    return harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "generation.delta" }> => event.type === "generation.delta" && event.chatId === chatId,
    );
  }

  beforeAll(async () => {
    await harness.core.api.loadModel({ modelId: await modelId("llama-2-tiny-random.gguf") });
    chatId = (await harness.core.api.createChat()).id;
  });

  it("stops a reply when asked, keeping what was written", async () => {
    const first = firstDelta();
    const done = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "Tell me a very long story." });
    await first;
    await harness.core.api.stopGeneration({ chatId });
    const { message } = await done;
    expect(message.status).toBe("stopped");
    expect(message.stats?.stopReason).toBe("stopped");
    expect(message.stats?.generatedTokens).toBeLessThan(512);
    expect(message.text.length).toBeGreaterThan(0);
  });

  it("queues a reply in another conversation behind the one being written, and stops it while it waits", async () => {
    const other = (await harness.core.api.createChat()).id;
    const otherDelta = () =>
      harness.waitFor(
        (event): event is Extract<CoreEvent, { type: "generation.delta" }> => event.type === "generation.delta" && event.chatId === other,
      );
    const first = firstDelta();
    const done = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "A long story, please." });
    await first;

    // Accepted, not refused: it waits for the engine.
    let otherDone = harness.waitFor(isDone(other));
    await harness.core.api.sendMessage({ chatId: other, text: "Me too." });
    expect(harness.core.generations.waiting).toBe(1);
    await harness.core.api.stopGeneration({ chatId: other });
    const cancelled = (await otherDone).message;
    expect(cancelled).toMatchObject({ status: "stopped", text: "", error: null });
    expect(harness.core.generations.waiting).toBe(0);

    // Queued again, it runs once the first reply ends.
    otherDone = harness.waitFor(isDone(other));
    const queued = await harness.core.api.sendMessage({ chatId: other, text: "Now?" });
    const started = otherDelta();
    await harness.core.api.stopGeneration({ chatId });
    expect((await done).message.status).toBe("stopped");
    await started;
    await harness.core.api.stopGeneration({ chatId: other });
    const { message } = await otherDone;
    expect(message.id).toBe(queued.assistantMessageId);
    expect(message.status).toBe("stopped");
    expect(message.text.length).toBeGreaterThan(0);
    const saved = await harness.core.api.getChat({ chatId: other });
    expect(saved.messages.map((m) => m.text)).toEqual(["Me too.", "", "Now?", message.text]);
  });

  it("says a reply that could not be saved failed, never stopped or complete", async () => {
    const id = (await harness.core.api.createChat()).id;
    const first = harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "generation.delta" }> => event.type === "generation.delta" && event.chatId === id,
    );
    const done = harness.waitFor(isDone(id));
    await harness.core.api.sendMessage({ chatId: id, text: "Tell me a story." });
    await first;
    // The conversation's file becomes a folder: every write to it fails from now on.
    const file = path.join(harness.home, "chats", `${id}.jsonl`);
    await fs.rename(file, `${file}.aside`);
    await fs.mkdir(file);
    try {
      await harness.core.api.stopGeneration({ chatId: id });
      const { message } = await done;
      expect(message.status).toBe("failed");
      expect(message.error?.code).toBe("storage_failed");
      expect(message.text.length).toBeGreaterThan(0);
    } finally {
      await fs.rmdir(file);
      await fs.rename(`${file}.aside`, file);
    }
  });

  it("survives the engine being killed mid-reply: the partial reply is kept and marked, the model comes back", async () => {
    const first = firstDelta();
    const done = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "One more story, please." });
    await first;
    const pid = harness.core.engine.pid;
    expect(pid).toBeDefined();
    process.kill(pid as number, "SIGKILL");
    const { message } = await done;
    expect(message.status).toBe("failed");
    expect(message.error?.code).toBe("engine_crashed");
    expect(message.text.length).toBeGreaterThan(0);

    // A new engine starts by itself and the model that was loaded is loaded again.
    await harness.waitForEngine("ready", 90_000);
    expect(harness.core.engine.pid).not.toBe(pid);
    const chat = await harness.core.api.getChat({ chatId });
    expect(chat.messages.at(-1)).toMatchObject({ id: message.id, status: "failed" });

    const next = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "Are you back?" });
    await firstDelta();
    await harness.core.api.stopGeneration({ chatId });
    expect((await next).message.status).toBe("stopped");
  });

  it("brings the model back when the engine is killed again while it starts after a crash", async () => {
    const first = firstDelta();
    const done = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "A story about a fox." });
    await first;
    const killed = harness.core.engine.pid;
    process.kill(killed as number, "SIGKILL");
    expect((await done).message.error?.code).toBe("engine_crashed");
    const afterFirst = harness.events.length;
    // The new engine process, killed as soon as it exists: before it says it is ready.
    let starting: number | undefined;
    while ((starting = harness.core.engine.pid) === undefined || starting === killed)
      await new Promise((resolve) => setTimeout(resolve, 2));
    process.kill(starting, "SIGKILL");
    const isEngine = (event: CoreEvent): event is Extract<CoreEvent, { type: "engine" }> => event.type === "engine";
    await harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "engine" }> => isEngine(event) && event.state.kind === "failed",
      30_000,
    );
    // (Had it started first, this would test nothing new.)
    expect(harness.events.slice(afterFirst).some((event) => isEngine(event) && event.state.kind === "idle")).toBe(false);

    // The third engine starts, and the model loaded before the first crash is loaded again.
    await harness.waitForEngine("ready", 90_000);
    const next = harness.waitFor(isDone(chatId));
    await harness.core.api.sendMessage({ chatId, text: "Are you back again?" });
    await firstDelta();
    await harness.core.api.stopGeneration({ chatId });
    expect((await next).message.status).toBe("stopped");
  });
});
