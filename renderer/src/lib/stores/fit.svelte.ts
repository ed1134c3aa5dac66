// Owns "will it fit?": the estimate for the inspected model at a chosen context size, and the
// question asked before loading a model that is estimated not to fit. Talks to lib/api
// (estimateFit) and hands confirmed loads to the engine store.

import { api, type FitEstimate } from "../api/index.js";
import { engine } from "./engine.svelte.js";

/** The context the core loads models with (DEFAULT_CONTEXT_SIZE in electron/core/settings/defaults.ts). */
export const LOAD_CONTEXT_SIZE = 4096;

export const FIT_CONTEXT_SIZES = [2048, 4096, 8192, 16384, 32768, 65536, 131072] as const;

class FitStore {
  contextSize = $state<number>(LOAD_CONTEXT_SIZE);
  estimate = $state.raw<FitEstimate | null>(null);
  estimating = $state(false);
  failure = $state<string | null>(null);
  /** A load waiting for the user's answer: the model is estimated not to fit. */
  pendingLoad = $state.raw<{ modelId: string; name: string; estimate: FitEstimate } | null>(null);

  #asked = 0;

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
        this.failure = error instanceof Error ? error.message : String(error);
      }
    } finally {
      if (ask === this.#asked) this.estimating = false;
    }
  }

  /** Loads a model, first asking the user when it is estimated not to fit. */
  async load(modelId: string, name: string): Promise<void> {
    let estimate: FitEstimate | null = null;
    try {
      estimate = await api.estimateFit({ modelId, contextSize: LOAD_CONTEXT_SIZE });
    } catch {
      // No estimate (the engine is restarting): loading itself reports any problem.
    }
    if (estimate?.verdict === "does_not_fit") {
      this.pendingLoad = { modelId, name, estimate };
      return;
    }
    await engine.loadModel(modelId);
  }

  async confirmLoad(): Promise<void> {
    const pending = this.pendingLoad;
    this.pendingLoad = null;
    if (pending) await engine.loadModel(pending.modelId);
  }

  cancelLoad(): void {
    this.pendingLoad = null;
  }
}

export const fit = new FitStore();
