// The app core: composes the services (model library, chats, engine) and serves the
// renderer contract to every connected renderer. No electron import: the same core runs in
// the desktop app, under `quanta serve`, and in tests.

import os from "node:os";
import { createBirpc, type BirpcReturn } from "birpc";
import { RENDERER_EVENT_NAMES, requestSchemas, type CoreApi, type RendererApi } from "../contract/api.js";
import { QuantaError, toWireError } from "../contract/errors.js";
import type { ChatMessage, CoreEvent, EngineState, LoadedModel, ModelLoadChoice, ProcessReading } from "../contract/types.js";
import { validatingResolver } from "../contract/validation.js";
import { decodeRpcMessage, encodeRpcMessage } from "../contract/wire.js";
import type { PromptMessage, SamplingSettings } from "../engine/protocol.js";
import { DEFAULT_LOAD_CONTEXT_SIZE, resolveSampling } from "../contract/chat-settings.js";
import { ChatStore, newId } from "./chats/chat-store.js";
import { openExternalLink } from "./chats/external-link.js";
import { EngineClient } from "./engine-client/engine-client.js";
import { LoadChoices } from "./engine-client/load-choices.js";
import type { SpawnEngine } from "./engine-client/engine-process.js";
import { modelFileKey, ThreadMemory } from "./engine-client/thread-memory.js";
import { createLibraryService } from "./library/library-service.js";
import type { LibraryEntry } from "./library/model-library.js";
import { HardwareMonitor, type MonitorWatcher } from "./monitor/hardware-monitor.js";
import { createLabApi } from "./lab/lab-api.js";
import { createApiServerService, type ApiServerService } from "./api-server/api-server-service.js";
import { InterimGenerationQueue } from "./api-server/generation-port.js";
import type { RpcChannel } from "./rpc-channel.js";
import { dataPaths } from "./settings/paths.js";

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
  /** The desktop shell's file dialog for importing models (the renderer never hands a path). */
  pickModelFiles?: () => Promise<string[]>;
  /** The desktop shell's "show in the file manager". */
  revealPath?: (file: string) => void;
  /** The desktop shell's shell.openExternal; headless mode has none (the page opens links). */
  openExternal?: (url: string) => Promise<void>;
  /** How often a reply being written is saved as it stands (default 2 s); tests shorten it. */
  checkpointMs?: number;
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
  /** The local API server (the CLI starts it with flags of its own). */
  readonly apiServer: ApiServerService;
  dispose(): Promise<void>;
}

interface ActiveGeneration {
  chatId: string;
  requestId: string;
  message: ChatMessage;
  /** The last checkpoint of the reply on its way to disk; the final save waits for it. */
  checkpoint: Promise<void>;
  checkpointAt: number;
}

const DEFAULT_CHECKPOINT_MS = 2000;

export async function createCore(options: CoreOptions): Promise<QuantaCore> {
  const paths = dataPaths(options.home);
  // The model library (folders, other apps' models, inspector, hub downloads) is its own service.
  const libraryService = await createLibraryService({
    paths,
    emit: (event) => emit(event),
    loadedModelId: () => loaded?.model.modelId ?? null,
    engineFit: async (request) => (await engine.api()).estimateFit(request),
    ...(options.pickModelFiles ? { pickModelFiles: options.pickModelFiles } : {}),
    ...(options.revealPath ? { revealPath: options.revealPath } : {}),
  });
  const library = libraryService.library;
  const chats = new ChatStore(paths.chats);
  const threadMemory = new ThreadMemory(paths.threadCalibrations);
  const loadChoices = new LoadChoices(paths.loadChoices);
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
      if (generation?.requestId !== requestId) {
        apiQueue.routeDelta(requestId, { text, ...progress });
        return;
      }
      generation.message.text += text;
      checkpoint(generation);
      monitor.generationProgress(progress);
      emit({ type: "generation.delta", chatId: generation.chatId, messageId: generation.message.id, text, contextUsed: progress.contextUsed });
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

  async function loadModel(modelId: string, asked: Partial<ModelLoadChoice> = {}): Promise<LoadedModel> {
    if (generation) throw new QuantaError("busy", "Wait for the reply to finish (or stop it) before loading another model.");
    if (engineState.kind === "loading") throw new QuantaError("busy", "A model is already loading.");
    const entry = await library.resolve(modelId);
    const choice = await loadChoices.resolve(modelId, asked);
    const started = performance.now();
    monitor.modelUnloaded();
    setEngineState({ kind: "loading", modelId, progress: 0, phase: "loading" });
    const fileKey = modelFileKey(entry.summary.sizeBytes, entry.mtimeMs, entry.summary.fileName);
    try {
      const remembered = await threadMemory.recall(fileKey);
      const rpc = await engine.api();
      const result = await rpc.loadModel({
        path: entry.path,
        contextSize: choice.contextSize ?? options.contextSize ?? DEFAULT_LOAD_CONTEXT_SIZE,
        threads: remembered?.chosen ?? null,
        gpuLayers: choice.gpuLayers,
      });
      // Remembered only once it loaded: a choice that fails must not fail every later load.
      await loadChoices.remember(modelId, choice).catch(() => undefined);
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
        gpuLayersAsked: result.gpuLayersAsked,
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

  /** The branch down to `parentId`, after the conversation's system prompt. */
  function promptFor(chatId: string, parentId: string | null): PromptMessage[] {
    const { systemPrompt } = chats.settings(chatId);
    const turns = chats
      .branchTo(chatId, parentId)
      .filter((message) => message.text !== "" && message.status !== "streaming")
      .map((message): PromptMessage => ({ role: message.role, text: message.text }));
    return systemPrompt.trim() === "" ? turns : [{ role: "system", text: systemPrompt }, ...turns];
  }

  async function runGeneration(active: ActiveGeneration, prompt: PromptMessage[]): Promise<void> {
    const { message } = active;
    const settings = chats.settings(active.chatId);
    const replySampling = resolveSampling(settings, options.sampling);
    const file = loaded?.entry;
    try {
      const rpc = await engine.api();
      const result = await rpc.generate({
        requestId: active.requestId,
        messages: prompt,
        sampling: replySampling,
        ...(settings.contextSize === null ? {} : { contextLimit: settings.contextSize }),
        chatTemplate: settings.chatTemplate,
      });
      message.text = result.text;
      message.stats = result.stats;
      message.status = result.stats.stopReason === "stopped" ? "stopped" : "complete";
      if (file) {
        message.provenance = {
          model: {
            fileName: file.summary.fileName,
            quantization: file.summary.quantization,
            sizeBytes: file.summary.sizeBytes,
            mtimeMs: file.mtimeMs,
          },
          sampling: replySampling,
          systemPrompt: settings.systemPrompt,
          contextSize: result.contextSize,
          chatTemplate: result.chatTemplate,
          droppedMessages: result.droppedMessages,
        };
      }
    } catch (error) {
      message.status = "failed";
      message.error = toWireError(error, "generation_failed");
    }
    generation = null;
    monitor.generationEnded(message);
    try {
      await active.checkpoint;
      await chats.saveMessage(active.chatId, message);
    } catch (error) {
      message.error = toWireError(error, "storage_failed");
    }
    emit({ type: "generation.done", chatId: active.chatId, message: { ...message } });
  }

  function userMessageAfter(parentId: string | null, text: string): ChatMessage {
    return {
      id: newId(),
      role: "user",
      text,
      createdAt: new Date().toISOString(),
      status: "complete",
      modelId: null,
      stats: null,
      error: null,
      parentId,
    };
  }

  /**
   * Saves a long reply as it stands every few seconds (status "streaming"), so that if the
   * core itself dies (the desktop app is killed) the text so far is on disk; on the next
   * start the store marks such a reply interrupted. One checkpoint at a time.
   */
  function checkpoint(active: ActiveGeneration): void {
    const now = performance.now();
    if (now - active.checkpointAt < (options.checkpointMs ?? DEFAULT_CHECKPOINT_MS)) return;
    active.checkpointAt = now;
    const snapshot = { ...active.message };
    active.checkpoint = active.checkpoint
      .then(() => chats.saveMessage(active.chatId, snapshot))
      // The final save reports a storage failure; a missed checkpoint only loses its timing.
      .catch(() => undefined);
  }

  function refuseWhileGenerating(): void {
    if (generation) throw new QuantaError("busy", "A reply is still being written. Wait for it or stop it first.");
  }

  /** Claims the one generation slot (synchronously, so two sends at once cannot both start). */
  function startReply(chatId: string, parentId: string): ActiveGeneration {
    chats.get(chatId);
    refuseWhileGenerating();
    if (!loaded || engineState.kind !== "ready") {
      throw new QuantaError("no_model_loaded", "No model is loaded. Pick a model and load it first.");
    }
    const active: ActiveGeneration = {
      chatId,
      requestId: newId(),
      message: {
        id: newId(),
        role: "assistant",
        text: "",
        createdAt: new Date().toISOString(),
        status: "streaming",
        modelId: loaded.model.modelId,
        stats: null,
        error: null,
        parentId,
      },
      checkpoint: Promise.resolve(),
      checkpointAt: performance.now(),
    };
    generation = active;
    return active;
  }

  /** Saves the user's message (if any) before the reply starts; a failed save frees the slot. */
  async function saveThenGenerate(active: ActiveGeneration, userMessage: ChatMessage | null): Promise<void> {
    try {
      if (userMessage) await chats.saveMessage(active.chatId, userMessage);
    } catch (error) {
      generation = null;
      throw error;
    }
    monitor.generationStarted(active.chatId, active.message.id);
    void runGeneration(active, promptFor(active.chatId, active.message.parentId ?? null));
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

  // Local API server: OpenAI- and Anthropic-compatible, one request at a time on the chat's engine.
  const apiQueue = new InterimGenerationQueue(() => engine.api());
  const apiServer = createApiServerService({
    home: paths.home,
    emit,
    queue: apiQueue,
    listModels: () => library.list(),
    loadedModelId: () => (engineState.kind === "ready" ? (loaded?.model.modelId ?? null) : null),
    loading: () => engineState.kind === "loading",
    loadModel: async (modelId) => void (await loadModel(modelId)),
    unloadModel: () => api.unloadModel(),
    monitor: {
      started: (label) => monitor.generationStarted("api", newId(), label),
      progress: (progress) => monitor.generationProgress(progress),
      ended: (outcome) => monitor.apiRequestEnded(outcome),
    },
  });

  const api: CoreApi = {
    ...lab.api,
    ...apiServer.api,
    getAppInfo: async () => ({
      version: options.version,
      shell: options.shell,
      platform: `${os.platform()} ${os.arch()}`,
      dataDir: paths.home,
      modelFolders: libraryService.modelFolders(),
    }),
    getEngineState: async () => engineState,
    listModels: async () => library.list(),
    rescanModels: async () => {
      const models = await library.scan();
      emit({ type: "models", models });
      return models;
    },
    loadModel: ({ modelId, ...asked }) => loadModel(modelId, asked),
    getLoadChoice: async ({ modelId }) => {
      await library.resolve(modelId);
      return loadChoices.recall(modelId);
    },
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
    getChat: async ({ chatId }) => {
      const chat = chats.get(chatId);
      // A reply being written is on disk only as of its last checkpoint: show it as it is now.
      const live = generation?.chatId === chatId ? generation.message : null;
      const index = live ? chat.messages.findIndex((message) => message.id === live.id) : -1;
      if (live && index >= 0) chat.messages[index] = structuredClone(live);
      return chat;
    },
    sendMessage: async ({ chatId, text }) => {
      const userMessage = userMessageAfter(chats.leaf(chatId), text);
      const active = startReply(chatId, userMessage.id);
      await saveThenGenerate(active, userMessage);
      return { userMessage, assistantMessageId: active.message.id };
    },
    // ---- Conversations: sidebar, settings, versions, links ----
    renameChat: ({ chatId, title }) => chats.rename(chatId, title),
    deleteChat: async ({ chatId }) => {
      if (generation?.chatId === chatId) throw new QuantaError("busy", "Stop the reply before deleting this conversation.");
      await chats.delete(chatId);
    },
    restoreChat: ({ chatId }) => chats.restore(chatId),
    searchChats: async ({ query }) => chats.search(query),
    updateChatSettings: ({ chatId, settings }) => chats.updateSettings(chatId, settings),
    editMessage: async ({ chatId, messageId, text }) => {
      refuseWhileGenerating();
      const original = chats.message(chatId, messageId);
      if (original.role !== "user") throw new QuantaError("invalid_request", "Only your own messages can be edited.");
      const userMessage = userMessageAfter(original.parentId ?? null, text);
      const active = startReply(chatId, userMessage.id);
      await saveThenGenerate(active, userMessage);
      return { userMessage, assistantMessageId: active.message.id };
    },
    regenerateReply: async ({ chatId, messageId }) => {
      refuseWhileGenerating();
      const original = chats.message(chatId, messageId);
      if (original.role !== "assistant" || !original.parentId) {
        throw new QuantaError("invalid_request", "Only a reply to a message can be regenerated.");
      }
      const active = startReply(chatId, original.parentId);
      await saveThenGenerate(active, null);
      return { assistantMessageId: active.message.id };
    },
    selectVersion: async ({ chatId, messageId }) => {
      if (generation?.chatId === chatId) throw new QuantaError("busy", "Wait for the reply to finish (or stop it) before switching versions.");
      return chats.select(chatId, messageId);
    },
    openExternal: ({ url }) => openExternalLink(url, options.openExternal),
    listAllMessages: async ({ chatId }) => chats.allMessages(chatId),
    stopGeneration: async ({ chatId }) => {
      if (generation?.chatId !== chatId) return;
      const rpc = await engine.api();
      await rpc.stop({ requestId: generation.requestId });
    },
    watchHardware: async ({ intervalMs }) => monitor.watch(localWatcher, intervalMs),
    unwatchHardware: async () => monitor.unwatch(localWatcher),
    getComputeCost: () => monitor.computeCost(),
    probeMemoryBandwidth: () => monitor.probeMemoryBandwidth(),
    ...libraryService.api,
  };

  await chats.load();
  await libraryService.start();
  engine.start().catch(() => undefined);
  await apiServer.init();

  return {
    api,
    engine,
    monitor,
    apiServer,
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
      await apiServer.dispose();
      lab.dispose();
      monitor.dispose();
      listeners.clear();
      connections.clear();
      await libraryService.dispose();
      await engine.dispose();
    },
  };
}
