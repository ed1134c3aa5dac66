// Owns "will it fit?": the estimate for the inspected model at a chosen context size, and the
// question asked before loading a model that is estimated not to fit. Talks to lib/api
// (estimateFit) and hands confirmed loads to the engine store. Also the GPU layers chosen for
// the inspected model (getLoadChoice): automatic, or a number the next load asks for; and the
// other load options (context size, flash attention, KV cache type, batch size, mmap/mlock,
// thread overrides), checked here against the model's bounds (getLoadDefaults) as the core does.

import {
  api,
  DEFAULT_LOAD_CONTEXT_SIZE,
  type FitEstimate,
  type FlashAttentionChoice,
  type GpuLayersChoice,
  type KvCacheType,
  type LoadDefaults,
  type LoadOptions,
  type MAX_BATCH_SIZE,
  type MAX_LOAD_THREADS,
  type MIN_BATCH_SIZE,
  type MIN_LOAD_CONTEXT_SIZE,
  type ModelLoadChoice,
} from "../api/index.js";
import { engine } from "./engine.svelte.js";

/** The contract's bounds, restated (the contract's values would bundle its zod schemas); `typeof` ties each to it. */
export const MIN_CONTEXT: typeof MIN_LOAD_CONTEXT_SIZE = 256;
export const MIN_BATCH: typeof MIN_BATCH_SIZE = 16;
export const MAX_BATCH: typeof MAX_BATCH_SIZE = 65536;
export const MAX_THREADS: typeof MAX_LOAD_THREADS = 256;

/** A load option the form refuses, with what the message needs (worded in FitPanel). */
export type OptionProblem =
  | { field: "contextSize"; min: number; max: number }
  | { field: "batchSize"; min: number; max: number }
  | { field: "threads" | "batchThreads"; min: number; max: number }
  | { field: "kvCacheType"; reason: "flash_attention"; type: KvCacheType }
  | { field: "kvCacheType"; reason: "head_size"; type: KvCacheType; headSize: number };

const whole = (value: number | null, min: number, max: number): boolean =>
  value !== null && Number.isInteger(value) && value >= min && value <= max;

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
  pendingLoad = $state.raw<{ modelId: string; name: string; estimate: FitEstimate; choice: Partial<ModelLoadChoice> } | null>(null);
  /** The inspected model's GPU layers: automatic, or the number typed (kept as typed until loading). */
  layersModelId = $state<string | null>(null);
  layersAuto = $state(true);
  layersCount = $state<number | null>(null);
  /** The other load options of the inspected model, as typed (null in a number field: the default). */
  flashAttention = $state<FlashAttentionChoice>("auto");
  kvCacheType = $state<KvCacheType>("F16");
  batchSize = $state<number | null>(null);
  mmap = $state<ModelLoadChoice["mmap"]>("auto");
  mlock = $state(false);
  threads = $state<number | null>(null);
  batchThreads = $state<number | null>(null);
  /** The inspected model's bounds and defaults (trained context, calibrated threads…). */
  defaults = $state.raw<LoadDefaults | null>(null);

  #asked = 0;

  /** Shows what the model's next load would use (remembered by the core from its last load). */
  async layersFor(modelId: string): Promise<void> {
    this.layersModelId = modelId;
    try {
      const [choice, defaults] = await Promise.all([api.getLoadChoice({ modelId }), api.getLoadDefaults({ modelId })]);
      if (this.layersModelId !== modelId) return;
      this.layersAuto = choice.gpuLayers === "auto";
      this.layersCount = choice.gpuLayers === "auto" ? (this.estimate?.gpuLayers ?? null) : choice.gpuLayers;
      this.flashAttention = choice.flashAttention;
      this.kvCacheType = choice.kvCacheType;
      this.batchSize = choice.batchSize;
      this.mmap = choice.mmap;
      this.mlock = choice.mlock;
      this.threads = choice.threads;
      this.batchThreads = choice.batchThreads;
      this.defaults = defaults;
      // Estimated again with this model's own choice (its context, KV cache type…).
      await this.estimateFor(modelId, choice.contextSize ?? defaults.defaultContextSize);
    } catch {
      // The model went away or the connection dropped: keep what is shown.
    }
  }

  /** The largest context the inspected model takes: the one it was trained with. */
  get maxContext(): number {
    return this.defaults?.trainedContextSize ?? 1 << 20;
  }

  /** The options the form refuses, each with its range or reason; empty when all can be sent. */
  problems(): OptionProblem[] {
    const problems: OptionProblem[] = [];
    const maxContext = this.maxContext;
    const contextOk = whole(this.contextSize, MIN_CONTEXT, maxContext);
    if (!contextOk) problems.push({ field: "contextSize", min: MIN_CONTEXT, max: maxContext });
    const maxBatch = Math.min(MAX_BATCH, contextOk ? this.contextSize : maxContext);
    if (this.batchSize !== null && !whole(this.batchSize, MIN_BATCH, maxBatch)) {
      problems.push({ field: "batchSize", min: MIN_BATCH, max: maxBatch });
    }
    for (const field of ["threads", "batchThreads"] as const) {
      if (this[field] !== null && !whole(this[field], 1, MAX_THREADS)) problems.push({ field, min: 1, max: MAX_THREADS });
    }
    if (this.kvCacheType !== "F16") {
      const headSize = this.defaults?.quantizedCacheHeadSize ?? null;
      if (headSize !== null) problems.push({ field: "kvCacheType", reason: "head_size", type: this.kvCacheType, headSize });
      else if (this.flashAttention === "off") problems.push({ field: "kvCacheType", reason: "flash_attention", type: this.kvCacheType });
    }
    return problems;
  }

  /** The load options to send (all checked: call only when problems() is empty). */
  options(): LoadOptions & { contextSize: number } {
    return {
      contextSize: this.contextSize,
      flashAttention: this.flashAttention,
      kvCacheType: this.kvCacheType,
      batchSize: this.batchSize,
      mmap: this.mmap,
      mlock: this.mlock,
      threads: this.threads,
      batchThreads: this.batchThreads,
    };
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

  /** Estimates again with the options as typed; a value the form refuses leaves the last estimate aside. */
  async estimateFor(modelId: string, contextSize = this.contextSize): Promise<void> {
    this.contextSize = contextSize;
    const ask = ++this.#asked;
    if (this.problems().length > 0) {
      this.estimate = null;
      this.estimating = false;
      return;
    }
    this.estimating = true;
    this.failure = null;
    try {
      const { flashAttention, kvCacheType, batchSize } = this;
      const estimate = await api.estimateFit({ modelId, contextSize, flashAttention, kvCacheType, batchSize });
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

  /**
   * Loads a model, first asking the user when it is estimated not to fit. Without a choice, the
   * model's remembered one (the core's) is both estimated and loaded.
   */
  async load(modelId: string, name: string, choice?: Partial<ModelLoadChoice>): Promise<void> {
    let estimate: FitEstimate | null = null;
    try {
      const remembered = choice ?? (await api.getLoadChoice({ modelId }));
      const contextSize = remembered.contextSize ?? LOAD_CONTEXT_SIZE;
      const { flashAttention, kvCacheType, batchSize } = remembered;
      estimate = await api.estimateFit({ modelId, contextSize, flashAttention, kvCacheType, batchSize });
    } catch {
      // No estimate (the engine is restarting): loading itself reports any problem.
    }
    const asked = choice ?? {};
    if (estimate?.verdict === "does_not_fit") {
      this.pendingLoad = { modelId, name, estimate, choice: asked };
      return;
    }
    await engine.loadModel(modelId, asked);
  }

  async confirmLoad(): Promise<void> {
    const pending = this.pendingLoad;
    this.pendingLoad = null;
    if (pending) await engine.loadModel(pending.modelId, pending.choice);
  }

  cancelLoad(): void {
    this.pendingLoad = null;
  }
}

export const fit = new FitStore();
