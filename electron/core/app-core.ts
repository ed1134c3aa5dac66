// The app core: composes the services (model library, chats, engine) and serves the
// renderer contract to every connected renderer. No electron import: the same core runs in
// the desktop app, under `quanta serve`, and in tests.

import os from "node:os";
import { createBirpc, type BirpcReturn } from "birpc";
import { RENDERER_EVENT_NAMES, requestSchemas, type CoreApi, type RendererApi } from "../contract/api.js";
import { QuantaError, toWireError } from "../contract/errors.js";
import type { ChatMessage, CoreEvent, EngineState, LoadedModel, ProcessReading } from "../contract/types.js";
import { validatingResolver } from "../contract/validation.js";
import { decodeRpcMessage, encodeRpcMessage } from "../contract/wire.js";
import type { PromptMessage, SamplingSettings } from "../engine/protocol.js";
import { ChatStore, newId } from "./chats/chat-store.js";
import { EngineClient } from "./engine-client/engine-client.js";
import type { SpawnEngine } from "./engine-client/engine-process.js";
import { modelFileKey, ThreadMemory } from "./engine-client/thread-memory.js";
import { ModelLibrary, type LibraryEntry } from "./library/model-library.js";
import { HardwareMonitor, type MonitorWatcher } from "./monitor/hardware-monitor.js";
import { createLabApi } from "./lab/lab-api.js";
import type { RpcChannel } from "./rpc-channel.js";
import { DEFAULT_CONTEXT_SIZE, DEFAULT_SAMPLING } from "./settings/defaults.js";
import { dataPaths, modelFolders } from "./settings/paths.js";

export interface CoreOptions {
  shell: "desktop" | "headless";
  home: string;
  version: string;
  spawnEngine: SpawnEngine;
  /** Overrides for tests and benchmarks. */
  sampling?: Partial<SamplingSettings>;
  contextSize?: number;
  /**
   * The shell's own processes besides the core and the engine (Electron's renderer and GPU
   * processes, from app.getAppMetrics()), for the hardware monitor. Headless mode has none:
   * the renderer is the user's browser, not a process of Quanta's.
   */
  processMetrics?: () => ProcessReading[];
}

export interface QuantaCore {
  /** The contract, as the renderer sees it (tests and the CLI call it directly too). */
  readonly api: CoreApi;
  connect(channel: RpcChannel): void;
  /**
   * Subscribes to the events every renderer gets, and to the monitor's while core.api watches
   * the hardware (core.api is the in-process client); returns the unsubscribe function.
   */
  onEvent(listener: (event: CoreEvent) => void): () => void;
  /** The engine process, for tests that need to kill it. */
  readonly engine: EngineClient;
  /** The hardware monitor, for tests and the benchmark that reads its own cost. */
  readonly monitor: HardwareMonitor;
  dispose(): Promise<void>;
}

interface ActiveGeneration {
  chatId: string;
  requestId: string;
  message: ChatMessage;
}

export async function createCore(options: CoreOptions): Promise<QuantaCore> {
  const paths = dataPaths(options.home);
  const folders = modelFolders(paths);
  const library = new ModelLibrary(() => folders);
  const chats = new ChatStore(paths.chats);
  const threadMemory = new ThreadMemory(paths.threadCalibrations);
  const sampling: SamplingSettings = { ...DEFAULT_SAMPLING, ...options.sampling };
  /** In-process subscribers (onEvent): tests, the CLI. */
  const listeners = new Set<(event: CoreEvent) => void>();
  /** Connected renderers. */
  const connections = new Set<(event: CoreEvent) => void>();

  let engineState: EngineState = { kind: "starting" };
  let loaded: { entry: LibraryEntry; model: LoadedModel } | null = null;
  /** The model to load again after the engine restarts (not after a crash while loading it). */
  let reloadAfterRestart: string | null = null;
  let generation: ActiveGeneration | null = null;
  /** Set by a crash, so the next start is reported as a restart. */
  let crashedBefore = false;

  /** Broadcast events go to every renderer and in-process subscriber; monitor events only to watchers. */
  const emit = (event: CoreEvent): void => {
    for (const connection of connections) connection(event);
    for (const listener of listeners) listener(event);
  };
  const setEngineState = (state: EngineState): void => {
    engineState = state;
    emit({ type: "engine", state });
  };

  const engine = new EngineClient(options.spawnEngine, {
    loadProgress: (progress, phase) => {
      if (engineState.kind === "loading") setEngineState({ ...engineState, progress, phase });
    },
    delta: (requestId, text, progress) => {
      if (generation?.requestId !== requestId) return;
      generation.message.text += text;
      monitor.generationProgress(progress);
      emit({ type: "generation.delta", chatId: generation.chatId, messageId: generation.message.id, text });
    },
    crashed: (error) => {
      reloadAfterRestart = engineState.kind === "loading" ? null : (loaded?.entry.summary.id ?? null);
      loaded = null;
      crashedBefore = true;
      monitor.engineStopped();
      setEngineState({ kind: "failed", error: error.toWire(), restarting: true });
    },
    started: () => {
      if (crashedBefore) monitor.engineRestarted();
      crashedBefore = false;
      setEngineState({ kind: "idle" });
      const modelId = reloadAfterRestart;
      reloadAfterRestart = null;
      if (modelId) api.loadModel({ modelId }).catch(() => undefined);
    },
  });

  const monitor = new HardwareMonitor({
    // Only an engine that is up: sampling never starts one, and reports it missing meanwhile.
    engine: () =>
      engineState.kind === "idle" || engineState.kind === "loading" || engineState.kind === "ready"
        ? { usage: async () => (await engine.api()).usage() }
        : null,
    enginePid: () => engine.pid,
    processMetrics: options.processMetrics,
    bandwidthFile: paths.memoryBandwidth,
  });
  /** The in-process client's watch (core.api.watchHardware): events go to onEvent subscribers. */
  const localWatcher: MonitorWatcher = { send: (event) => listeners.forEach((listener) => listener(event)) };

  async function loadModel(modelId: string): Promise<LoadedModel> {
    if (generation) throw new QuantaError("busy", "Wait for the reply to finish (or stop it) before loading another model.");
    if (engineState.kind === "loading") throw new QuantaError("busy", "A model is already loading.");
    const entry = await library.resolve(modelId);
    const started = performance.now();
    monitor.modelUnloaded();
    setEngineState({ kind: "loading", modelId, progress: 0, phase: "loading" });
    const fileKey = modelFileKey(entry.summary.sizeBytes, entry.mtimeMs, entry.summary.fileName);
    try {
      const remembered = await threadMemory.recall(fileKey);
      const rpc = await engine.api();
      const result = await rpc.loadModel({
        path: entry.path,
        contextSize: options.contextSize ?? DEFAULT_CONTEXT_SIZE,
        threads: remembered?.chosen ?? null,
        gpuLayers: "auto",
      });
      if (result.calibration) await threadMemory.remember(fileKey, result.calibration).catch(() => undefined);
      const model: LoadedModel = {
        modelId,
        name: entry.summary.fileName.replace(/\.gguf$/i, ""),
        contextSize: result.contextSize,
        threads: result.threads,
        threadsSource: result.calibration ? "calibrated" : "remembered",
        calibration: result.calibration ?? remembered,
        gpu: result.gpu,
        gpuLayers: result.gpuLayers,
        chatTemplate: result.chatTemplate,
        loadMs: Math.round(performance.now() - started),
      };
      loaded = { entry, model };
      monitor.modelLoaded(
        { modelId, name: model.name, path: entry.path, contextSize: model.contextSize, gpuLayers: model.gpuLayers },
        model.threads,
      );
      setEngineState({ kind: "ready", model });
      return model;
    } catch (error) {
      loaded = null;
      const wire = toWireError(error, "model_load_failed");
      // After a crash the engine restarts on its own and reports itself idle.
      if (wire.code !== "engine_crashed") setEngineState({ kind: "idle" });
      throw new QuantaError(wire.code, wire.message);
    }
  }

  function promptFor(chatId: string): PromptMessage[] {
    return chats
      .get(chatId)
      .messages.filter((message) => message.text !== "" && message.status !== "streaming")
      .map((message) => ({ role: message.role, text: message.text }));
  }

  async function runGeneration(active: ActiveGeneration, prompt: PromptMessage[]): Promise<void> {
    const { message } = active;
    try {
      const rpc = await engine.api();
      const result = await rpc.generate({ requestId: active.requestId, messages: prompt, sampling });
      message.text = result.text;
      message.stats = result.stats;
      message.status = result.stats.stopReason === "stopped" ? "stopped" : "complete";
    } catch (error) {
      message.status = "failed";
      message.error = toWireError(error, "generation_failed");
    }
    generation = null;
    monitor.generationEnded(message);
    try {
      await chats.saveMessage(active.chatId, message);
    } catch (error) {
      message.error = toWireError(error, "storage_failed");
    }
    emit({ type: "generation.done", chatId: active.chatId, message: { ...message } });
  }

  // Quantization lab: its own engine processes, the library for ids, the chat's model for memory.
  const lab = createLabApi({
    home: paths.home,
    spawnEngine: options.spawnEngine,
    threadMemory,
    emit,
    library,
    onVariantWritten: async () => void (await api.rescanModels()),
    chatModelBytes: () => loaded?.entry.summary.sizeBytes ?? 0,
  });

  const api: CoreApi = {
    ...lab.api,
    getAppInfo: async () => ({
      version: options.version,
      shell: options.shell,
      platform: `${os.platform()} ${os.arch()}`,
      dataDir: paths.home,
      modelFolders: folders,
    }),
    getEngineState: async () => engineState,
    listModels: async () => library.list(),
    rescanModels: async () => {
      const models = await library.scan();
      emit({ type: "models", models });
      return models;
    },
    loadModel: ({ modelId }) => loadModel(modelId),
    unloadModel: async () => {
      if (generation) throw new QuantaError("busy", "Stop the reply before unloading the model.");
      const rpc = await engine.api();
      await rpc.unloadModel();
      loaded = null;
      monitor.modelUnloaded();
      setEngineState({ kind: "idle" });
    },
    listChats: async () => chats.list(),
    createChat: () => chats.create(),
    getChat: async ({ chatId }) => structuredClone(chats.get(chatId)),
    sendMessage: async ({ chatId, text }) => {
      chats.get(chatId);
      if (generation) throw new QuantaError("busy", "A reply is still being written. Wait for it or stop it first.");
      if (!loaded || engineState.kind !== "ready") {
        throw new QuantaError("no_model_loaded", "No model is loaded. Pick a model and load it first.");
      }
      const modelId = loaded.model.modelId;
      const userMessage: ChatMessage = {
        id: newId(),
        role: "user",
        text,
        createdAt: new Date().toISOString(),
        status: "complete",
        modelId: null,
        stats: null,
        error: null,
      };
      // Claim the slot before the first await, so two sends at once cannot both start.
      const active: ActiveGeneration = {
        chatId,
        requestId: newId(),
        message: {
          id: newId(),
          role: "assistant",
          text: "",
          createdAt: new Date().toISOString(),
          status: "streaming",
          modelId,
          stats: null,
          error: null,
        },
      };
      generation = active;
      try {
        await chats.saveMessage(chatId, userMessage);
      } catch (error) {
        generation = null;
        throw error;
      }
      monitor.generationStarted(chatId, active.message.id);
      void runGeneration(active, promptFor(chatId));
      return { userMessage, assistantMessageId: active.message.id };
    },
    stopGeneration: async ({ chatId }) => {
      if (generation?.chatId !== chatId) return;
      const rpc = await engine.api();
      await rpc.stop({ requestId: generation.requestId });
    },
    watchHardware: async ({ intervalMs }) => monitor.watch(localWatcher, intervalMs),
    unwatchHardware: async () => monitor.unwatch(localWatcher),
    getComputeCost: () => monitor.computeCost(),
    probeMemoryBandwidth: () => monitor.probeMemoryBandwidth(),
  };

  await chats.load();
  await library.scan();
  engine.start().catch(() => undefined);

  return {
    api,
    engine,
    monitor,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connect(channel) {
      // Each renderer watches the hardware on its own: its watch methods act for it alone.
      const watcher: MonitorWatcher = { send: (event) => void rpc.event(event) };
      const connectionApi: CoreApi = {
        ...api,
        watchHardware: async ({ intervalMs }) => monitor.watch(watcher, intervalMs),
        unwatchHardware: async () => monitor.unwatch(watcher),
      };
      const rpc: BirpcReturn<RendererApi, CoreApi> = createBirpc<RendererApi, CoreApi>(connectionApi, {
        post: (message) => channel.post(encodeRpcMessage(message)),
        on: (listener) => channel.on((message) => listener(decodeRpcMessage(message))),
        eventNames: [...RENDERER_EVENT_NAMES],
        resolver: validatingResolver(requestSchemas),
        timeout: -1,
      });
      const forward = (event: CoreEvent): void => void rpc.event(event);
      connections.add(forward);
      channel.onClose(() => {
        connections.delete(forward);
        monitor.unwatch(watcher);
        rpc.$close();
      });
    },
    async dispose() {
      lab.dispose();
      monitor.dispose();
      listeners.clear();
      connections.clear();
      await engine.dispose();
    },
  };
}
