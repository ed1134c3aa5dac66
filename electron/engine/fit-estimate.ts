// Will it fit? llama.cpp's own estimates (node-llama-cpp's GgufInsights) of the RAM and VRAM a
// model's weights and its KV cache at a chosen context size (and KV cache type, flash attention
// and batch size) need, against what this machine
// has free now, and the GPU layers a load would choose. Runs in the engine: node-llama-cpp
// lives here. The same estimator as loading (model-session.ts): the layer count comes from
// the configuration resolver a load with gpuLayers "auto" uses, the sizes from the V2
// estimates the loaded model's placement is computed with, so the fit shown before a load
// and the placement after it agree.

import os from "node:os";
import { GgufInsights, readGgufFileInfo } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type { FitEstimateOptions, FitEstimateRequest, EngineFitEstimate } from "./protocol.js";
import { estimateFootprint } from "./memory-footprint.js";
import { getBackend } from "./model-session.js";
import { refuseRedirects } from "./no-redirects.js";

function estimateFailed(error: unknown): QuantaError {
  const detail = error instanceof Error ? error.message : String(error);
  // node-llama-cpp does arithmetic on header values: a uint64 past 2^53 arrives as a BigInt.
  if (error instanceof TypeError && /BigInt/.test(detail)) {
    return new QuantaError(
      "model_invalid",
      "The model's header holds a number too large for any model (a damaged file), so no estimate can be made.",
    );
  }
  return new QuantaError("model_invalid", `The model's header could not be used for the estimate: ${detail}`);
}

export async function estimateFit(request: FitEstimateRequest): Promise<EngineFitEstimate> {
  const llama = await getBackend();
  try {
    if ("url" in request) refuseRedirects();
    const info =
      "url" in request
        ? await readGgufFileInfo(request.url, { sourceType: "network", logWarnings: false })
        : await readGgufFileInfo(request.path, { sourceType: "filesystem", logWarnings: false });
    const insights = await GgufInsights.from(info, llama);
    const { flashAttention, kvCacheType, batchSize } = request;
    return await estimate(insights, request.contextSize, { flashAttention, kvCacheType, batchSize });
  } catch (error) {
    if (error instanceof QuantaError) throw error;
    throw estimateFailed(error);
  }
}

/** llama.cpp allocates the context in steps of 256 cells (llama_context pads n_ctx): the size a load of `asked` really gets. */
export function allocatedContextSize(asked: number): number {
  return Math.ceil(asked / 256) * 256;
}

async function estimate(insights: GgufInsights, contextAsked: number, options: FitEstimateOptions): Promise<EngineFitEstimate> {
  const llama = await getBackend();
  const totalLayers = insights.totalLayers;
  const contextSize = allocatedContextSize(Math.min(contextAsked, insights.trainContextSize ?? contextAsked));
  const gpu = llama.gpu !== false && llama.supportsGpuOffloading ? llama.gpu : null;
  const vram = gpu === null ? null : await llama.getVramState();
  // What a load with gpuLayers "auto" would choose (the loader's own resolver): the most layers whose VRAM fits.
  const gpuLayers = gpu === null ? 0 : (await insights.configurationResolver.resolveModelGpuLayersV2("auto")).gpuLayers;
  // The same footprint (weights, KV cache, compute buffers) the Hardware view and the Lab show.
  const chosen = await estimateFootprint(insights, contextSize, gpuLayers, gpu !== null, options);
  const freeRam = os.freemem();
  const verdict = chosen.ramBytes > freeRam ? "does_not_fit" : gpu !== null && gpuLayers < totalLayers ? "fits_partly" : "fits";

  return {
    contextSize,
    verdict,
    gpu,
    ...chosen,
    freeRamBytes: freeRam,
    totalRamBytes: os.totalmem(),
    freeVramBytes: vram?.free ?? null,
    totalVramBytes: vram?.total ?? null,
  };
}
