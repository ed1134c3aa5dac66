// Will it fit? The core asks the real engine (node-llama-cpp's GgufInsights) about real
// files: stories260K fits this machine at its trained context, with a KV cache at least as
// large as computed here from its header; a synthetic model whose declared context makes the
// KV cache far larger than this machine's memory does not fit; the context asked for is
// capped at what the model was trained on.

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { hubFile, startFakeHub, type FakeHub } from "../support/fake-hub.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let models: string;
let harness: CoreHarness;
let hub: FakeHub;
const previousHub = process.env.QUANTA_HUB_URL;
const HUGE_CONTEXT = 1 << 21;

beforeAll(async () => {
  models = await tempDir("fit-models");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  // 16 layers × 2M tokens × (256 + 256) × 2 bytes of F16 KV cache = 32 GiB: more than this machine has.
  await writeSyntheticLlama(path.join(models, "long-context.gguf"), {
    tokenizerFrom: STORIES_MODEL,
    layers: 16,
    contextLength: HUGE_CONTEXT,
    name: "long",
  });
  hub = await startFakeHub();
  hub.addRepo("test-org/Stories-GGUF", [await hubFile("stories260K-F32.gguf", STORIES_MODEL)]);
  process.env.QUANTA_HUB_URL = hub.url;
  harness = await startCore([models]);
  await harness.waitForEngine("idle");
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  await hub?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  if (previousHub === undefined) delete process.env.QUANTA_HUB_URL;
  else process.env.QUANTA_HUB_URL = previousHub;
  await fs.rm(models, { recursive: true, force: true });
});

async function idOf(fileName: string): Promise<string> {
  const model = (await harness.core.api.listModels()).find((candidate) => candidate.fileName === fileName);
  if (!model) throw new Error(`${fileName} not listed`);
  return model.id;
}

describe("will it fit", () => {
  it("says stories260K fits, with weights and KV cache from llama.cpp's estimate", async () => {
    const header = await readGgufHeader(STORIES_MODEL);
    const meta = header.metadata;
    const layers = Number(meta["llama.block_count"]);
    const embd = Number(meta["llama.embedding_length"]);
    const heads = Number(meta["llama.attention.head_count"]);
    const kvHeads = Number(meta["llama.attention.head_count_kv"]);
    const context = Number(meta["llama.context_length"]);
    // Asking for more than the trained context estimates the trained context.
    const fit = await harness.core.api.estimateFit({ modelId: await idOf("stories260K.gguf"), contextSize: context * 4 });
    expect(fit.contextSize).toBe(context);
    expect(fit.verdict).toBe("fits");
    // K and V, F16, per layer and token: the least the cache can take.
    // K and V, F16, per layer and token: the KV cache and nothing else (compute buffers apart).
    const kvCache = layers * context * 2 * (embd / heads) * kvHeads * 2;
    expect(fit.kvCacheBytes).toBe(kvCache);
    expect(fit.computeBytes).toBeGreaterThan(0);
    const tensorBytes = header.tensors.reduce((sum, tensor) => sum + (tensor.byteSize ?? Number.NaN), 0);
    expect(fit.weightsBytes).toBeGreaterThanOrEqual(tensorBytes * 0.9);
    expect(fit.weightsBytes + kvCache + fit.computeBytes!).toBe(fit.ramBytes + (fit.vramBytes ?? 0));
    // Layers count the output layer too, as llama.cpp's GPU layers do.
    expect(fit.totalLayers).toBe(layers + 1);
    if (fit.gpu === null) expect(fit.vramBytes).toBeNull();
    expect(fit.ramBytes).toBeLessThan(fit.freeRamBytes);
    expect(fit.totalRamBytes).toBe(os.totalmem());
    expect(fit.totalLayers).toBeGreaterThanOrEqual(layers);
    if (fit.gpu === null) expect(fit.gpuLayers).toBe(0);
  });

  it("says a model whose KV cache outgrows the machine does not fit", async () => {
    const fit = await harness.core.api.estimateFit({ modelId: await idOf("long-context.gguf"), contextSize: HUGE_CONTEXT });
    expect(fit.contextSize).toBe(HUGE_CONTEXT);
    expect(fit.kvCacheBytes).toBe(16 * HUGE_CONTEXT * 512 * 2);
    expect(fit.verdict).toBe("does_not_fit");
    expect(fit.ramBytes).toBeGreaterThan(fit.freeRamBytes);
    // The same model at a small context fits.
    const small = await harness.core.api.estimateFit({ modelId: await idOf("long-context.gguf"), contextSize: 2048 });
    expect(small.verdict).toBe("fits");
  });

  it("estimates a model still on the hub from its header alone, as it would once downloaded", async () => {
    const local = await harness.core.api.estimateFit({ modelId: await idOf("stories260K.gguf"), contextSize: 2048 });
    hub.requests.length = 0;
    const remote = await harness.core.api.estimateHubFit({
      repo: "test-org/Stories-GGUF",
      path: "stories260K-F32.gguf",
      contextSize: 2048,
    });
    expect(remote).toMatchObject({ repo: "test-org/Stories-GGUF", path: "stories260K-F32.gguf", verdict: local.verdict });
    expect(remote.kvCacheBytes).toBe(local.kvCacheBytes);
    expect(remote.weightsBytes).toBe(local.weightsBytes);
    // Read with Range requests, never as a whole download.
    const reads = hub.requests.filter((r) => r.url.startsWith("/cdn/"));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.range !== null)).toBe(true);
    await expect(
      harness.core.api.estimateHubFit({ repo: "test-org/Stories-GGUF", path: "missing-Q4_0.gguf", contextSize: 2048 }),
    ).rejects.toMatchObject({ code: "not_found" });
  });
});
