// The engine and the model in it, as the UI sees them: the engine's state (starting, idle,
// loading, ready, failed), loading a model with its remembered choices and thread count,
// unloading it, and loading it again by itself after the engine restarts from a crash.

import { DEFAULT_LOAD_CONTEXT_SIZE } from "../../contract/chat-settings.js";
import { QuantaError, toWireError, type ErrorParams } from "../../contract/errors.js";
import type { CoreEvent, EngineState, LoadDefaults, LoadedModel, ModelLoadChoice } from "../../contract/types.js";
import type { LibraryEntry, ModelLibrary } from "../library/model-library.js";
import type { HardwareMonitor } from "../monitor/hardware-monitor.js";
import { EngineClient } from "./engine-client.js";
import type { SpawnEngine } from "./engine-process.js";
import {
  checkBatchSize,
  checkContextSize,
  checkGpuLayers,
  checkKvCacheType,
  modelLoadFacts,
  quantizedCacheHeadSize,
  type LoadChoices,
} from "./load-choices.js";
import { modelFileKey, withBatch, type ThreadMemory } from "./thread-memory.js";

export interface ModelHostOptions {
  spawnEngine: SpawnEngine;
  library: ModelLibrary;
  loadChoices: LoadChoices;
  threadMemory: ThreadMemory;
  monitor: HardwareMonitor;
  emit: (event: CoreEvent) => void;
  /** The context size when neither the load nor the model's remembered choice names one. */
  contextSize?: number;
  /** Generations running or waiting: the model may not be swapped from under them. */
  generating: () => boolean;
  /** Names the job that holds the engine in a "busy" refusal (the renderer offers to open and stop it). */
  busyWith?: () => ErrorParams | undefined;
  /** The engine's reply deltas (routed to the generation they belong to). */
  delta: (requestId: string, delta: { text: string; generatedTokens: number; contextUsed: number }) => void;
}

export interface HostedModel {
  entry: LibraryEntry;
  model: LoadedModel;
}

export class ModelHost {
  readonly engine: EngineClient;
  readonly #options: ModelHostOptions;
  #state: EngineState = { kind: "starting" };
  #loaded: HostedModel | null = null;
  /** The model to load again after the engine restarts (not after a crash while loading it). */
  #reloadAfterRestart: string | null = null;
  /** Set by a crash, so the next start is reported as a restart. */
  #crashedBefore = false;

  constructor(options: ModelHostOptions) {
    this.#options = options;
    const { monitor } = options;
    this.engine = new EngineClient(options.spawnEngine, {
      loadProgress: (progress, phase) => {
        if (this.#state.kind === "loading") this.#setState({ ...this.#state, progress, phase });
      },
      delta: (requestId, text, progress) => options.delta(requestId, { text, ...progress }),
      crashed: (error) => {
        // A crash while the engine starts again after one keeps the model to load; none after a crash while loading it.
        if (this.#state.kind !== "failed") {
          this.#reloadAfterRestart = this.#state.kind === "loading" ? null : (this.#loaded?.entry.summary.id ?? null);
        }
        this.#loaded = null;
        this.#crashedBefore = true;
        monitor.engineStopped();
        this.#setState({ kind: "failed", error: error.toWire(), restarting: true });
      },
      started: () => {
        if (this.#crashedBefore) monitor.engineRestarted();
        this.#crashedBefore = false;
        this.#setState({ kind: "idle" });
        const modelId = this.#reloadAfterRestart;
        this.#reloadAfterRestart = null;
        // Jobs waiting for the engine expect the model they were queued for: no "busy" here.
        if (modelId) this.#load(modelId, {}).catch(() => undefined);
      },
    });
  }

  get state(): EngineState {
    return this.#state;
  }

  /** The model loaded and ready, with its library entry. */
  get loaded(): HostedModel | null {
    return this.#loaded;
  }

  /** The engine process is up (idle, loading or ready): readers must not start one. */
  get up(): boolean {
    const { kind } = this.#state;
    return kind === "idle" || kind === "loading" || kind === "ready";
  }

  /** Starts the engine process (in the background; a failure is reported as its state). */
  start(): void {
    this.engine.start().catch(() => undefined);
  }

  load(modelId: string, asked: Partial<ModelLoadChoice> = {}): Promise<LoadedModel> {
    if (this.#options.generating()) {
      return Promise.reject(
        new QuantaError("busy", "Wait for the reply to finish (or stop it) before loading another model.", this.#options.busyWith?.()),
      );
    }
    return this.#load(modelId, asked);
  }

  /**
   * Loads a model for a job that holds its turn in the generation queue (a local API request
   * naming a model that is not loaded): nothing else can be generating meanwhile.
   */
  loadInTurn(modelId: string): Promise<LoadedModel> {
    return this.#load(modelId, {});
  }

  /** What a model's load choices fall back to, and the bounds the form checks them against. */
  async loadDefaults(modelId: string): Promise<LoadDefaults> {
    const entry = await this.#options.library.resolve(modelId);
    const facts = await modelLoadFacts(entry.path);
    const calibration = await this.#options.threadMemory.recall(
      modelFileKey(entry.summary.sizeBytes, entry.mtimeMs, entry.summary.fileName),
    );
    const defaultContextSize = Math.min(
      this.#options.contextSize ?? DEFAULT_LOAD_CONTEXT_SIZE,
      facts.trainedContextSize ?? Number.POSITIVE_INFINITY,
    );
    return {
      modelId,
      trainedContextSize: facts.trainedContextSize,
      defaultContextSize,
      // node-llama-cpp's default: 512, or the context when smaller.
      defaultBatchSize: Math.min(512, defaultContextSize),
      calibratedThreads: calibration?.chosen ?? null,
      calibratedBatchThreads: calibration?.batch?.chosen ?? null,
      quantizedCacheHeadSize: quantizedCacheHeadSize(facts),
    };
  }

  async #load(modelId: string, asked: Partial<ModelLoadChoice>): Promise<LoadedModel> {
    const { library, loadChoices, threadMemory, monitor } = this.#options;
    if (this.#state.kind === "loading") throw new QuantaError("busy", "A model is already loading.");
    const entry = await library.resolve(modelId);
    const facts = await modelLoadFacts(entry.path);
    checkGpuLayers(asked.gpuLayers, facts.totalLayers);
    checkContextSize(asked.contextSize, facts.trainedContextSize);
    const choice = await loadChoices.resolve(modelId, asked);
    // The whole choice (what was asked with what is remembered) is checked: a remembered batch
    // size may not fit a smaller context asked now, nor a quantized cache flash attention turned off.
    const contextSize = Math.min(
      choice.contextSize ?? this.#options.contextSize ?? DEFAULT_LOAD_CONTEXT_SIZE,
      facts.trainedContextSize ?? Number.POSITIVE_INFINITY,
    );
    checkBatchSize(choice.batchSize, contextSize);
    checkKvCacheType(choice.kvCacheType, choice.flashAttention, facts);
    const started = performance.now();
    monitor.modelUnloaded();
    this.#setState({ kind: "loading", modelId, progress: 0, phase: "loading" });
    const fileKey = modelFileKey(entry.summary.sizeBytes, entry.mtimeMs, entry.summary.fileName);
    try {
      const remembered = await threadMemory.recall(fileKey);
      const rpc = await this.engine.api();
      const result = await rpc.loadModel({
        path: entry.path,
        contextSize,
        // A thread count the user chose wins over the calibrated one (which stays remembered).
        threads: choice.threads ?? remembered?.chosen ?? null,
        batchThreads: choice.batchThreads ?? remembered?.batch?.chosen ?? null,
        gpuLayers: choice.gpuLayers,
        flashAttention: choice.flashAttention,
        kvCacheType: choice.kvCacheType,
        batchSize: choice.batchSize,
        mmap: choice.mmap,
        mlock: choice.mlock,
      });
      // Remembered only once it loaded: a choice that fails must not fail every later load.
      await loadChoices.remember(modelId, choice).catch(() => undefined);
      await loadChoices.rememberLast(modelId).catch(() => undefined);
      // Both counts are remembered together; a batch count measured now joins a remembered generation count.
      const calibration = withBatch(result.calibration ?? remembered, result.batchCalibration);
      if (calibration && (result.calibration || result.batchCalibration)) {
        await threadMemory.remember(fileKey, calibration).catch(() => undefined);
      }
      const model: LoadedModel = {
        modelId,
        name: entry.summary.fileName.replace(/\.gguf$/i, ""),
        contextSize: result.contextSize,
        threads: result.threads,
        batchThreads: result.batchThreads,
        threadsSource: choice.threads !== null ? "setting" : result.calibration ? "calibrated" : "remembered",
        calibration,
        gpu: result.gpu,
        gpuLayers: result.gpuLayers,
        gpuLayersAsked: result.gpuLayersAsked,
        chatTemplate: result.chatTemplate,
        loadMs: Math.round(performance.now() - started),
        options: result.options,
        build: result.build,
      };
      this.#loaded = { entry, model };
      monitor.modelLoaded(
        { modelId, name: model.name, path: entry.path, contextSize: model.contextSize, gpuLayers: model.gpuLayers },
        model.threads,
      );
      this.#setState({ kind: "ready", model });
      return model;
    } catch (error) {
      this.#loaded = null;
      const wire = toWireError(error, "model_load_failed");
      // After a crash the engine restarts on its own and reports itself idle.
      if (wire.code !== "engine_crashed") this.#setState({ kind: "idle" });
      throw new QuantaError(wire.code, wire.message);
    }
  }

  async unload(): Promise<void> {
    if (this.#options.generating()) throw new QuantaError("busy", "Stop the reply before unloading the model.", this.#options.busyWith?.());
    const rpc = await this.engine.api();
    await rpc.unloadModel();
    this.#loaded = null;
    this.#options.monitor.modelUnloaded();
    this.#setState({ kind: "idle" });
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }

  #setState(state: EngineState): void {
    this.#state = state;
    this.#options.emit({ type: "engine", state });
  }
}
