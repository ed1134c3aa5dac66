// Owns "will it fit?": the estimate for the inspected model at a chosen context size, and the
// question asked before loading a model that is estimated not to fit. Talks to lib/api
// (estimateFit) and hands confirmed loads to the engine store. Also the GPU layers chosen for
// the inspected model (getLoadChoice): automatic, or a number the next load asks for.

import { api, DEFAULT_LOAD_CONTEXT_SIZE, type FitEstimate, type GpuLayersChoice } from "../api/index.js";
import { engine } from "./engine.svelte.js";

/** The context the core loads models with. */
export const LOAD_CONTEXT_SIZE = DEFAULT_LOAD_CONTEXT_SIZE;

export const FIT_CONTEXT_SIZES = [2048, 4096, 8192, 16384, 32768, 65536, 131072] as const;

class FitStore {
  contextSize = $state<number>(LOAD_CONTEXT_SIZE);
  estimate = $state.raw<FitEstimate | null>(null);
  estimating = $state(false);
  /** The failed estimate, worded where shown (i18n/errors.ts). */
  failure = $state.raw<{ code?: unknown; message?: unknown; params?: unknown } | null>(null);
  /** A load waiting for the user's answer: the model is estimated not to fit. */
  pendingLoad = $state.raw<{ modelId: string; name: string; estimate: FitEstimate; gpuLayers?: GpuLayersChoice } | null>(null);
  /** The inspected model's GPU layers: automatic, or the number typed (kept as typed until loading). */
  layersModelId = $state<string | null>(null);
  layersAuto = $state(true);
  layersCount = $state<number | null>(null);

  #asked = 0;

  /** Shows what the model's next load would use (remembered by the core from its last load). */
  async layersFor(modelId: string): Promise<void> {
    this.layersModelId = modelId;
    try {
      const choice = await api.getLoadChoice({ modelId });
      if (this.layersModelId !== modelId) return;
      this.layersAuto = choice.gpuLayers === "auto";
      this.layersCount = choice.gpuLayers === "auto" ? (this.estimate?.gpuLayers ?? null) : choice.gpuLayers;
    } catch {
      // The model went away or the connection dropped: keep what is shown.
    }
  }

  /**
   * The choice to send, or null when the typed number is not a whole number of layers from 0 to
   * the model's count (the output layer included), as the core also checks.
   */
  layersChoice(totalLayers: number | null = this.estimate?.totalLayers ?? null): GpuLayersChoice | null {
    if (this.layersAuto) return "auto";
    const count = this.layersCount;
    const inRange = count !== null && Number.isInteger(count) && count >= 0 && (totalLayers === null || count <= totalLayers);
    return inRange ? count : null;
  }

  async estimateFor(modelId: string, contextSize = this.contextSize): Promise<void> {
    this.contextSize = contextSize;
    const ask = ++this.#asked;
    this.estimating = true;
    this.failure = null;
    try {
      const estimate = await api.estimateFit({ modelId, contextSize });
      if (ask === this.#asked) this.estimate = estimate;
    } catch (error) {
      if (ask === this.#asked) {
        this.estimate = null;
        this.failure = typeof error === "object" && error !== null ? error : { message: String(error) };
      }
    } finally {
      if (ask === this.#asked) this.estimating = false;
    }
  }

  /** Loads a model, first asking the user when it is estimated not to fit. */
  async load(modelId: string, name: string, gpuLayers?: GpuLayersChoice): Promise<void> {
    let estimate: FitEstimate | null = null;
    try {
      estimate = await api.estimateFit({ modelId, contextSize: LOAD_CONTEXT_SIZE });
    } catch {
      // No estimate (the engine is restarting): loading itself reports any problem.
    }
    if (estimate?.verdict === "does_not_fit") {
      this.pendingLoad = { modelId, name, estimate, ...(gpuLayers === undefined ? {} : { gpuLayers }) };
      return;
    }
    await engine.loadModel(modelId, gpuLayers === undefined ? {} : { gpuLayers });
  }

  async confirmLoad(): Promise<void> {
    const pending = this.pendingLoad;
    this.pendingLoad = null;
    if (pending) await engine.loadModel(pending.modelId, pending.gpuLayers === undefined ? {} : { gpuLayers: pending.gpuLayers });
  }

  cancelLoad(): void {
    this.pendingLoad = null;
  }
}

export const fit = new FitStore();
