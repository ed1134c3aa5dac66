// GPU layers and context size per model, with the real engine and stories260K: what is asked
// reaches the engine, is remembered across a restart of the core, and bad values are refused
// at the wire with a message a person can act on.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuantaCore } from "../../electron/core/app-core.js";
import { startCore as startHarness } from "../support/core-harness.js";
import { connectRenderer } from "../support/renderer-link.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let models: string;
let home: string;
let core: QuantaCore | null = null;

/** A core on this file's data folder, which outlives it (what a restart of the app keeps). */
async function startCore(): Promise<QuantaCore> {
  return (await startHarness([models], { home })).core;
}

async function storiesId(running: QuantaCore): Promise<string> {
  const found = (await running.api.listModels()).find((model) => model.fileName === "stories260K.gguf");
  if (!found) throw new Error("stories260K.gguf is not in the library");
  return found.id;
}

beforeAll(async () => {
  models = await tempDir("models");
  home = await tempDir("home");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
});

afterAll(async () => {
  await core?.dispose();
  await fs.rm(models, { recursive: true, force: true });
  await fs.rm(home, { recursive: true, force: true });
});

describe("GPU layers and context size per model", () => {
  it("sends the asked GPU layers to the engine; without a GPU llama.cpp runs on the CPU and the load succeeds", async () => {
    core = await startCore();
    const modelId = await storiesId(core);
    expect(await core.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: "auto", contextSize: null });

    const automatic = await core.api.loadModel({ modelId });
    expect(automatic.gpuLayersAsked).toBe("auto");

    const loaded = await core.api.loadModel({ modelId, gpuLayers: 3, contextSize: 256 });
    // The engine reports back the request it received, and what llama.cpp did with it.
    expect(loaded.gpuLayersAsked).toBe(3);
    expect(loaded.contextSize).toBe(256);
    if (loaded.gpu === null) expect(loaded.gpuLayers).toBe(0);
    else expect(loaded.gpuLayers).toBeLessThanOrEqual(3);
    expect(await core.api.getEngineState()).toMatchObject({ kind: "ready", model: { gpuLayersAsked: 3 } });
    expect(await core.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: 3, contextSize: 256 });
  });

  it("remembers the choice across a restart of the core: the next plain load uses it", async () => {
    await core?.dispose();
    core = await startCore();
    const modelId = await storiesId(core);
    expect(await core.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: 3, contextSize: 256 });
    const loaded = await core.api.loadModel({ modelId });
    expect(loaded.gpuLayersAsked).toBe(3);
    expect(loaded.contextSize).toBe(256);

    // Choosing automatic again replaces the number; the context size stays as it was.
    const auto = await core.api.loadModel({ modelId, gpuLayers: "auto" });
    expect(auto.gpuLayersAsked).toBe("auto");
    expect(await core.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: "auto", contextSize: 256 });
  });

  it("refuses bad values at the wire with a clear error, and remembers nothing from them", async () => {
    if (!core) throw new Error("no core");
    const modelId = await storiesId(core);
    const link = connectRenderer(core);
    try {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ gpuLayers: -1 }, /gpuLayers: GPU layers cannot be negative/],
        [{ gpuLayers: 2.5 }, /gpuLayers: GPU layers is "auto" or a whole number from 0 to 1024/],
        [{ gpuLayers: "max" }, /gpuLayers: GPU layers is "auto" or a whole number/],
        [{ gpuLayers: 100_000 }, /gpuLayers: GPU layers is at most 1024/],
        [{ contextSize: 10 }, /contextSize: the context size is at least 256 tokens/],
        [{ contextSize: 2 ** 24 }, /contextSize: the context size is at most/],
      ];
      for (const [bad, message] of cases) {
        const call = link.api.loadModel({ modelId, ...bad });
        await expect(call).rejects.toMatchObject({ code: "invalid_request", message: expect.stringMatching(message) as unknown });
      }
      // More layers than the model has (stories260K: 5 blocks and the output layer) is refused
      // with the figures for the renderer to word, and not remembered.
      await expect(link.api.loadModel({ modelId, gpuLayers: 999 })).rejects.toMatchObject({
        code: "invalid_request",
        params: { reason: "gpu_layers_range", max: 6, asked: 999 },
      });
      expect((await link.api.loadModel({ modelId, gpuLayers: 6 })).gpuLayersAsked).toBe(6);
      await link.api.loadModel({ modelId, gpuLayers: "auto" });
      expect(await link.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: "auto", contextSize: 256 });
      expect(await core.api.getEngineState()).toMatchObject({ kind: "ready" });
    } finally {
      link.close();
    }
  });

  it("reads a damaged choices file as no choice, setting it aside", async () => {
    await core?.dispose();
    await fs.writeFile(path.join(home, "load-choices.json"), '{"version":1,"models":{"x":{"gpuLayers":-4,"contextSize":null}}}');
    core = await startCore();
    const modelId = await storiesId(core);
    expect(await core.api.getLoadChoice({ modelId })).toMatchObject({ gpuLayers: "auto", contextSize: null });
    const kept = (await fs.readdir(home)).filter((name) => name.startsWith("load-choices.json.damaged-"));
    expect(kept).toHaveLength(1);
  });
});
