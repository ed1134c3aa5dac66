// Will it fit? llama.cpp's own estimates (node-llama-cpp's GgufInsights) of the RAM and VRAM a
// model's weights and its KV cache at a chosen context size need, against what this machine
// has free now, and the most GPU layers that fit. Runs in the engine: node-llama-cpp lives here.

import os from "node:os";
import { GgufInsights, readGgufFileInfo } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type { FitEstimateRequest, EngineFitEstimate } from "./protocol.js";
import { getBackend } from "./model-session.js";
import { refuseRedirects } from "./no-redirects.js";

export async function estimateFit(request: FitEstimateRequest): Promise<EngineFitEstimate> {
  const llama = await getBackend();
  let insights: GgufInsights;
  try {
    if ("url" in request) refuseRedirects();
    const info =
      "url" in request
        ? await readGgufFileInfo(request.url, { sourceType: "network", logWarnings: false })
        : await readGgufFileInfo(request.path, { sourceType: "filesystem", logWarnings: false });
    insights = await GgufInsights.from(info, llama);
  } catch (error) {
    throw new QuantaError("model_invalid", `The model's header could not be read for the estimate: ${error instanceof Error ? error.message : String(error)}`);
  }
  const totalLayers = insights.totalLayers;
  const contextSize = Math.min(request.contextSize, insights.trainContextSize ?? request.contextSize);
  const needs = (gpuLayers: number) => {
    const model = insights.estimateModelResourceRequirements({ gpuLayers });
    const context = insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: gpuLayers });
    return {
      gpuLayers,
      ramBytes: model.cpuRam + context.cpuRam,
      vramBytes: model.gpuVram + context.gpuVram,
      weightsBytes: insights.modelSize,
      kvCacheBytes: context.cpuRam + context.gpuVram,
    };
  };

  const gpu = llama.gpu !== false && llama.supportsGpuOffloading ? llama.gpu : null;
  const vram = gpu === null ? null : await llama.getVramState();
  const freeRam = os.freemem();
  const ramFits = (bytes: number) => bytes <= freeRam;

  // The most layers whose VRAM need fits what is free (needs grow with the layer count).
  let gpuLayers = 0;
  if (vram !== null) {
    let low = 0;
    let high = totalLayers;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (needs(mid).vramBytes <= vram.free) low = mid;
      else high = mid - 1;
    }
    gpuLayers = low;
  }
  const chosen = needs(gpuLayers);
  const verdict = !ramFits(chosen.ramBytes) ? "does_not_fit" : gpu !== null && gpuLayers < totalLayers ? "fits_partly" : "fits";

  return {
    contextSize,
    verdict,
    gpu: gpu === null ? null : String(gpu),
    totalLayers,
    ...chosen,
    freeRamBytes: freeRam,
    totalRamBytes: os.totalmem(),
    freeVramBytes: vram?.free ?? null,
    totalVramBytes: vram?.total ?? null,
  };
}
