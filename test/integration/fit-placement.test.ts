// One estimator: the fit the engine estimates before a load (engine/fit-estimate.ts) is the
// placement it reports after loading the same model at the same context (model-session.ts).
// The fit once used node-llama-cpp's deprecated estimate, the load its current one, and the
// two disagreed (stories260K at 512 tokens: a KV cache of 10.5 MB against 2.3 MB).

import { afterAll, describe, expect, it } from "vitest";
import { estimateFit } from "../../electron/engine/fit-estimate.js";
import { ModelSession } from "../../electron/engine/model-session.js";
import path from "node:path";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";

const session = new ModelSession();

afterAll(async () => {
  await session.unload();
});

describe("fit estimate and load placement", () => {
  for (const [file, contextSize] of [
    [STORIES_MODEL, 512],
    [TINY_RANDOM_MODEL, 1024],
  ] as const) {
    it(`agree for ${file.split("/").pop()} at ${contextSize} tokens`, async () => {
      const fit = await estimateFit({ path: file, contextSize });
      await session.load({ path: file, contextSize, threads: 1, gpuLayers: "auto" }, () => undefined);
      const placed = (await session.usage()).model;
      expect(placed).not.toBeNull();
      expect(fit.gpuLayers).toBe(placed?.gpuLayers);
      expect(fit.ramBytes).toBe(placed?.ramBytes);
      expect(fit.vramBytes).toBe(placed?.vramBytes);
    }, 120_000);
  }

  it("says a header number past 2^63 is damage, not 'Cannot mix BigInt and other types'", async () => {
    for (const key of ["llama.context_length", "llama.block_count", "llama.embedding_length"]) {
      const file = path.join(await tempDir("fit-bigint"), "huge.gguf");
      await writeSyntheticLlama(file, {
        tokenizerFrom: STORIES_MODEL,
        dataless: true,
        metadataOverrides: [[key, { type: "uint64", value: 2n ** 63n + 5n }]],
      });
      await expect(estimateFit({ path: file, contextSize: 512 }), key).rejects.toMatchObject({
        code: "model_invalid",
        message: expect.stringMatching(/too large for any model/) as unknown,
      });
    }
  });
});
