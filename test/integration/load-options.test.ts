// Load options beside GPU layers, with the real engine: the KV cache type, flash attention,
// batch size, mmap/mlock and thread overrides reach llama.cpp (read back after the load), size
// Will it fit the same way they size the loaded model, are remembered per model across a
// restart of the core, and bad values are refused with a code and the figures to word them.
// stories260K's heads hold 8 values, too few for a quantized cache (blocks of 32): a synthetic
// llama with heads of 64 values (written here, 3 MB) is the model a Q8_0 cache can hold.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, LoadedModel } from "../../electron/contract/types.js";
import type { QuantaCore } from "../../electron/core/app-core.js";
import { startCore as startHarness } from "../support/core-harness.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { connectRenderer } from "../support/renderer-link.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

/** 2 layers × 4 heads of 64: each cached position holds 2 × 4 × 64 keys and as many values per layer. */
const SYNTHETIC = { embeddingLength: 256, layers: 2, feedForwardLength: 512, heads: 4, contextLength: 4096 } as const;
const SYNTHETIC_KV_ELEMENTS_PER_CELL = SYNTHETIC.layers * SYNTHETIC.heads * (SYNTHETIC.embeddingLength / SYNTHETIC.heads) * 2;

let models: string;
let home: string;
let core: QuantaCore | null = null;

/** A core on this file's data folder, which outlives it (what a restart of the app keeps). */
async function startCore(): Promise<QuantaCore> {
  return (await startHarness([models], { home })).core;
}

async function idOf(running: QuantaCore, fileName: string): Promise<string> {
  const found = (await running.api.listModels()).find((model) => model.fileName === fileName);
  if (!found) throw new Error(`${fileName} is not in the library`);
  return found.id;
}

/** What the loaded model occupies, as the engine reads it from llama.cpp's buffers. */
async function footprint(running: QuantaCore) {
  const usage = await (await running.engine.api()).usage();
  if (!usage.model) throw new Error("no model loaded");
  return usage.model;
}

/** One short reply from the loaded model (16 tokens at most), waited for to its end. */
async function reply(running: QuantaCore, text: string): Promise<ChatMessage> {
  const chat = await running.api.createChat();
  await running.api.updateChatSettings({
    chatId: chat.id,
    settings: { systemPrompt: "", preset: "precise", overrides: { maxTokens: 16 }, contextSize: null, chatTemplate: null },
  });
  const done = new Promise<ChatMessage>((resolve) => {
    const stop = running.onEvent((event) => {
      if (event.type === "generation.done" && event.chatId === chat.id) {
        stop();
        resolve(event.message);
      }
    });
  });
  await running.api.sendMessage({ chatId: chat.id, text });
  return done;
}

function running(): QuantaCore {
  if (!core) throw new Error("no core");
  return core;
}

beforeAll(async () => {
  models = await tempDir("load-options-models");
  home = await tempDir("load-options-home");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await writeSyntheticLlama(path.join(models, "synthetic-heads64.gguf"), {
    tokenizerFrom: STORIES_MODEL,
    ...SYNTHETIC,
    type: "F16",
    seed: 11,
    name: "synthetic heads of 64",
  });
  core = await startCore();
}, 60_000);

afterAll(async () => {
  await core?.dispose();
  await fs.rm(models, { recursive: true, force: true });
  await fs.rm(home, { recursive: true, force: true });
});

describe("load options beside GPU layers", () => {
  it("sizes the KV cache by its type: Q8_0 and Q4_0 take less than F16, in Will it fit and in the loaded model alike", async () => {
    const core = running();
    const modelId = await idOf(core, "synthetic-heads64.gguf");
    const contextSize = 1024;
    const fits = {
      F16: await core.api.estimateFit({ modelId, contextSize, flashAttention: "on", kvCacheType: "F16" }),
      Q8_0: await core.api.estimateFit({ modelId, contextSize, flashAttention: "on", kvCacheType: "Q8_0" }),
      Q4_0: await core.api.estimateFit({ modelId, contextSize, flashAttention: "on", kvCacheType: "Q4_0" }),
    };
    // ggml's block layouts: F16 2 bytes an element, Q8_0 34 bytes per 32, Q4_0 18 per 32.
    expect(fits.F16.kvCacheBytes).toBe(SYNTHETIC_KV_ELEMENTS_PER_CELL * contextSize * 2);
    expect(fits.Q8_0.kvCacheBytes).toBe((SYNTHETIC_KV_ELEMENTS_PER_CELL * contextSize * 34) / 32);
    expect(fits.Q4_0.kvCacheBytes).toBe((SYNTHETIC_KV_ELEMENTS_PER_CELL * contextSize * 18) / 32);
    // llama.cpp's own estimate of the context's buffers falls with the cache, not only our figure.
    expect(fits.Q8_0.ramBytes).toBeLessThan(fits.F16.ramBytes);
    expect(fits.Q4_0.ramBytes).toBeLessThan(fits.Q8_0.ramBytes);

    const f16 = await core.api.loadModel({ modelId, contextSize, flashAttention: "on", kvCacheType: "F16", threads: 1, batchThreads: 1 });
    expect(f16.options).toMatchObject({ kvCacheKeyType: "F16", kvCacheValueType: "F16", flashAttention: "on" });
    const f16Footprint = await footprint(core);

    const q8 = await core.api.loadModel({ modelId, contextSize, kvCacheType: "Q8_0" });
    expect(q8.options).toMatchObject({ kvCacheKeyType: "Q8_0", kvCacheValueType: "Q8_0", flashAttention: "on", contextSize });
    const q8Footprint = await footprint(core);
    expect(q8Footprint.kvCacheBytes).toBe(fits.Q8_0.kvCacheBytes);
    // Measured from llama.cpp's buffers: the context (KV cache and compute buffers) really shrank.
    expect(q8Footprint.ramBytes - q8Footprint.weightsBytes).toBeLessThan(f16Footprint.ramBytes - f16Footprint.weightsBytes);
    // One estimator: what Will it fit said for Q8_0 is what the loaded model occupies.
    expect(q8Footprint.ramBytes).toBe(fits.Q8_0.ramBytes);
    expect(q8Footprint.computeBytes).toBe(fits.Q8_0.computeBytes);

    // The model still answers with a quantized cache.
    const answer = await reply(core, "Once upon a time");
    expect(answer.status).toBe("complete");
    expect(answer.stats?.generatedTokens).toBeGreaterThan(0);
  });

  it("turns flash attention on and off as asked, and Will it fit follows (its compute buffers differ)", async () => {
    const core = running();
    const modelId = await idOf(core, "synthetic-heads64.gguf");
    const on = await core.api.estimateFit({ modelId, contextSize: 1024, flashAttention: "on" });
    const off = await core.api.estimateFit({ modelId, contextSize: 1024, flashAttention: "off" });
    expect(off.computeBytes).not.toBe(on.computeBytes);
    expect(off.kvCacheBytes).toBe(on.kvCacheBytes);
    const loaded = await core.api.loadModel({ modelId, contextSize: 1024, flashAttention: "off", kvCacheType: "F16" });
    expect(loaded.options?.flashAttention).toBe("off");
    expect((await footprint(core)).ramBytes).toBe(off.ramBytes);
  });

  it("reports the context llama.cpp really allocated, and the batch size, mmap and threads in effect", async () => {
    const core = running();
    const modelId = await idOf(core, "stories260K.gguf");
    // llama.cpp allocates the context in steps of 256: 300 asked is 512 allocated, and Will it fit says so.
    const fit = await core.api.estimateFit({ modelId, contextSize: 300 });
    expect(fit.contextSize).toBe(512);
    const loaded: LoadedModel = await core.api.loadModel({
      modelId,
      contextSize: 300,
      batchSize: 64,
      mmap: "off",
      mlock: false,
      threads: 1,
      batchThreads: 2,
    });
    expect(loaded.contextSize).toBe(512);
    expect(loaded.options).toEqual({
      contextSize: 512,
      batchSize: 64,
      flashAttention: "auto",
      kvCacheKeyType: "F16",
      kvCacheValueType: "F16",
      mmap: false,
      mlock: false,
    });
    expect(loaded).toMatchObject({ threads: 1, batchThreads: 2, threadsSource: "setting" });
    expect((await footprint(core)).kvCacheBytes).toBe(fit.kvCacheBytes);

    // Without mmap the weights are read into memory, and the model still generates.
    const answer = await reply(core, "Once upon a time");
    expect(answer.status).toBe("complete");
    expect(answer.text.length).toBeGreaterThan(0);

    const mapped = await core.api.loadModel({ modelId, mmap: "on" });
    expect(mapped.options?.mmap).toBe(true);
    // Left out, the other options stay as last chosen.
    expect(mapped.options).toMatchObject({ contextSize: 512, batchSize: 64 });
  });

  it("keeps the calibrated thread counts as the default, shown beside the override", async () => {
    const core = running();
    const modelId = await idOf(core, "stories260K.gguf");
    // Back to the calibrated counts: measured now (none were measured for this model yet).
    const calibrated = await core.api.loadModel({ modelId, threads: null, batchThreads: null });
    expect(calibrated.threadsSource).toBe("calibrated");
    const defaults = await core.api.getLoadDefaults({ modelId });
    expect(defaults).toMatchObject({
      modelId,
      trainedContextSize: 2048,
      calibratedThreads: calibrated.threads,
      calibratedBatchThreads: calibrated.batchThreads,
      // stories260K's heads hold 8 values: no quantized cache for it.
      quantizedCacheHeadSize: 8,
    });
    const synthetic = await core.api.getLoadDefaults({ modelId: await idOf(core, "synthetic-heads64.gguf") });
    expect(synthetic).toMatchObject({ trainedContextSize: 4096, quantizedCacheHeadSize: null, calibratedThreads: null });

    const chosen = await core.api.loadModel({ modelId, threads: 1 });
    expect(chosen).toMatchObject({ threads: 1, threadsSource: "setting" });
    // The measured counts stay remembered under the override.
    expect((await core.api.getLoadDefaults({ modelId })).calibratedThreads).toBe(calibrated.threads);
  });

  it("remembers every option per model across a restart of the core: the next plain load uses them", async () => {
    await core?.dispose();
    core = await startCore();
    const stories = await idOf(core, "stories260K.gguf");
    const synthetic = await idOf(core, "synthetic-heads64.gguf");
    expect(await core.api.getLoadChoice({ modelId: stories })).toEqual({
      gpuLayers: "auto",
      contextSize: 300,
      flashAttention: "auto",
      kvCacheType: "F16",
      batchSize: 64,
      mmap: "on",
      mlock: false,
      threads: 1,
      batchThreads: null,
    });
    expect(await core.api.getLoadChoice({ modelId: synthetic })).toMatchObject({ flashAttention: "off", kvCacheType: "F16" });
    const loaded = await core.api.loadModel({ modelId: stories });
    expect(loaded).toMatchObject({ threads: 1, threadsSource: "setting", contextSize: 512 });
    expect(loaded.options).toMatchObject({ batchSize: 64, mmap: true });

    const q4 = await core.api.loadModel({ modelId: synthetic, flashAttention: "auto", kvCacheType: "Q4_0" });
    expect(q4.options).toMatchObject({ kvCacheKeyType: "Q4_0", kvCacheValueType: "Q4_0" });
    await core.dispose();
    core = await startCore();
    expect(await core.api.getLoadChoice({ modelId: synthetic })).toMatchObject({ flashAttention: "auto", kvCacheType: "Q4_0" });
  });

  it("refuses bad values with a code and the figures to word them, and remembers nothing from them", async () => {
    const core = running();
    const stories = await idOf(core, "stories260K.gguf");
    const synthetic = await idOf(core, "synthetic-heads64.gguf");
    const before = await core.api.getLoadChoice({ modelId: stories });
    const link = connectRenderer(core);
    try {
      // At the wire (zod): the shape of each value.
      const shapes: [Record<string, unknown>, RegExp][] = [
        [{ kvCacheType: "Q5_1" }, /kvCacheType: the KV cache type is one of F16, Q8_0, Q4_0/],
        [{ flashAttention: "yes" }, /flashAttention: flash attention is "auto", "on" or "off"/],
        [{ batchSize: 8 }, /batchSize: the batch size is at least 16 tokens/],
        [{ batchSize: 100.5 }, /batchSize: the batch size is a whole number/],
        [{ mmap: true }, /mmap: mmap is "auto", "on" or "off"/],
        [{ mlock: "yes" }, /mlock/],
        [{ threads: 0 }, /threads: a thread count is at least 1/],
        [{ batchThreads: 1000 }, /batchThreads: a thread count is at most 256/],
      ];
      for (const [bad, message] of shapes) {
        await expect(link.api.loadModel({ modelId: stories, ...bad }), JSON.stringify(bad)).rejects.toMatchObject({
          code: "invalid_request",
          message: expect.stringMatching(message) as unknown,
        });
      }
      await expect(link.api.estimateFit({ modelId: stories, contextSize: 512, kvCacheType: "Q2_K" } as never)).rejects.toMatchObject({
        code: "invalid_request",
      });

      // Against the model: its trained context, its head size, flash attention, the batch within the context.
      const refusals: [string, Record<string, unknown>, Record<string, unknown>][] = [
        [stories, { contextSize: 4096 }, { reason: "context_range", min: 256, max: 2048, asked: 4096 }],
        [
          stories,
          { kvCacheType: "Q8_0", flashAttention: "on" },
          { reason: "kv_cache_head_size", type: "Q8_0", headSize: 8, blockSize: 32 },
        ],
        [synthetic, { kvCacheType: "Q8_0", flashAttention: "off" }, { reason: "kv_cache_needs_flash_attention", type: "Q8_0" }],
        [stories, { contextSize: 256, batchSize: 1024 }, { reason: "batch_range", min: 16, max: 256, asked: 1024 }],
      ];
      for (const [modelId, bad, params] of refusals) {
        await expect(link.api.loadModel({ modelId, ...bad }), JSON.stringify(bad)).rejects.toMatchObject({
          code: "invalid_request",
          params,
        });
      }
      // Will it fit refuses what a load would refuse, with the same code.
      await expect(link.api.estimateFit({ modelId: stories, contextSize: 512, kvCacheType: "Q4_0" })).rejects.toMatchObject({
        code: "invalid_request",
        params: { reason: "kv_cache_head_size", headSize: 8 },
      });
      await expect(
        link.api.estimateFit({ modelId: synthetic, contextSize: 512, kvCacheType: "Q4_0", flashAttention: "off" }),
      ).rejects.toMatchObject({ code: "invalid_request", params: { reason: "kv_cache_needs_flash_attention" } });
      expect(await core.api.getLoadChoice({ modelId: stories })).toEqual(before);
    } finally {
      link.close();
    }
  });

  it("reads a choices file from before the load options with their defaults", async () => {
    await core?.dispose();
    await fs.writeFile(path.join(home, "load-choices.json"), '{"version":1,"models":{"old":{"gpuLayers":2,"contextSize":512}}}');
    core = await startCore();
    const stories = await idOf(core, "stories260K.gguf");
    await fs.writeFile(
      path.join(home, "load-choices.json"),
      JSON.stringify({ version: 1, models: { [stories]: { gpuLayers: 2, contextSize: 512 } } }),
    );
    expect(await core.api.getLoadChoice({ modelId: stories })).toEqual({
      gpuLayers: 2,
      contextSize: 512,
      flashAttention: "auto",
      kvCacheType: "F16",
      batchSize: null,
      mmap: "auto",
      mlock: false,
      threads: null,
      batchThreads: null,
    });
  });
});
