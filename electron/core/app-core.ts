// The app core: composes the services (model library, chats, engine) and serves the
// renderer contract to every connected renderer. No electron import: the same core runs in
// the desktop app, under `quanta serve`, and in tests.

import os from "node:os";
import { createBirpc, type BirpcReturn } from "birpc";
import { RENDERER_EVENT_NAMES, requestSchemas, type CoreApi, type RendererApi } from "../contract/api.js";
import { QuantaError } from "../contract/errors.js";
import type { CoreEvent, ProcessReading } from "../contract/types.js";
import { validatingResolver } from "../contract/validation.js";
import { encodeRpcMessage } from "../contract/wire.js";
import type { SamplingSettings } from "../engine/protocol.js";
import { createChatApi } from "./chats/chat-api.js";
import { createComposeApi } from "./compose/compose-api.js";
import { SystemPrompts } from "./compose/system-prompts.js";
import { TokenCounts } from "./compose/token-counts.js";
import { ChatReplies } from "./chats/chat-replies.js";
import { ChatStore } from "./chats/chat-store.js";
import type { EngineClient } from "./engine-client/engine-client.js";
import type { SpawnEngine } from "./engine-client/engine-process.js";
import { LoadChoices } from "./engine-client/load-choices.js";
import { ModelHost } from "./engine-client/model-host.js";
import { ThreadMemory } from "./engine-client/thread-memory.js";
import { GenerationQueue } from "./generation/generation-queue.js";
import { createLabApi } from "./lab/lab-api.js";
import { createApiServerService, type ApiServerService } from "./api-server/api-server-service.js";
import { newId } from "../common/ids.js";
import { createLibraryService } from "./library/library-service.js";
import { HardwareMonitor, type MonitorWatcher } from "./monitor/hardware-monitor.js";
import { receiveCheckedRpc, type RpcChannel } from "./rpc-channel.js";
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
  /** The engine and its model: what a generation may run on. */
  readonly models: ModelHost;
  /** The one queue of generations in front of the engine (conversations, the local API). */
  readonly generations: GenerationQueue;
  /** The hardware monitor, for tests and the benchmark that reads its own cost. */
  readonly monitor: HardwareMonitor;
  /** The local API server (the CLI starts it with flags of its own). */
  readonly apiServer: ApiServerService;
  dispose(): Promise<void>;
}

/** Requests that may wait for the engine behind the one running (conversations and API clients together). */
const MAX_WAITING_GENERATIONS = 32;

export async function createCore(options: CoreOptions): Promise<QuantaCore> {
  const paths = dataPaths(options.home);
  /** In-process subscribers (onEvent): tests, the CLI. */
  const listeners = new Set<(event: CoreEvent) => void>();
  /** Connected renderers. */
  const connections = new Set<(event: CoreEvent) => void>();
  /** Broadcast events go to every renderer and in-process subscriber; monitor events only to watchers. */
  const emit = (event: CoreEvent): void => {
    for (const connection of connections) connection(event);
    for (const listener of listeners) listener(event);
  };

  // The model library (folders, other apps' models, inspector, hub downloads) is its own service.
  const libraryService = await createLibraryService({
    paths,
    emit,
    loadedModelId: () => host.loaded?.model.modelId ?? null,
    engineFit: async (request) => (await host.engine.api()).estimateFit(request),
    ...(options.pickModelFiles ? { pickModelFiles: options.pickModelFiles } : {}),
    ...(options.revealPath ? { revealPath: options.revealPath } : {}),
  });
  const library = libraryService.library;
  const chats = new ChatStore(paths.chats);
  const threadMemory = new ThreadMemory(paths.threadCalibrations);
  const loadChoices = new LoadChoices(paths.loadChoices);

  const monitor = new HardwareMonitor({
    // Only an engine that is up: sampling never starts one, and reports it missing meanwhile.
    engine: () => (host.up ? { usage: async () => (await host.engine.api()).usage() } : null),
    enginePid: () => host.engine.pid,
    processMetrics: options.processMetrics,
    bandwidthFile: paths.memoryBandwidth,
  });
  /** The in-process client's watch (core.api.watchHardware): events go to onEvent subscribers. */
  const localWatcher: MonitorWatcher = { send: (event) => listeners.forEach((listener) => listener(event)) };

  // The engine and its model; the one queue of generations in front of it; the conversations' replies.
  const host: ModelHost = new ModelHost({
    spawnEngine: options.spawnEngine,
    library,
    loadChoices,
    threadMemory,
    monitor,
    emit,
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    generating: () => queue.running !== null || queue.waiting > 0,
    busyWith: () => replies.busyWith(),
    delta: (requestId, delta) => queue.routeDelta(requestId, delta),
  });
  const queue = new GenerationQueue({ engine: () => host.engine.api(), maxWaiting: MAX_WAITING_GENERATIONS });
  const replies = new ChatReplies({
    chats,
    queue,
    models: host,
    monitor,
    emit,
    ...(options.sampling ? { sampling: options.sampling } : {}),
    ...(options.checkpointMs === undefined ? {} : { checkpointMs: options.checkpointMs }),
  });

  // Quantization lab: its own engine processes, the library for ids, the chat's model for memory.
  const lab = createLabApi({
    home: paths.home,
    spawnEngine: options.spawnEngine,
    threadMemory,
    emit,
    library,
    onVariantWritten: async () => {
      await api.rescanModels();
    },
    chatModelBytes: () => host.loaded?.entry.summary.sizeBytes ?? 0,
  });

  // Local API server (OpenAI- and Anthropic-compatible): its requests take turns in the same queue.
  const apiServer = createApiServerService({
    home: paths.home,
    emit,
    queue,
    listModels: () => library.list(),
    modelModifiedMs: (modelId) => library.modifiedMs(modelId),
    loadedModelId: () => (host.state.kind === "ready" ? (host.loaded?.model.modelId ?? null) : null),
    loading: () => host.state.kind === "loading",
    loadModel: async (modelId) => {
      await host.loadInTurn(modelId);
    },
    unloadModel: () => host.unload(),
    monitor: {
      started: (request) => monitor.generationStarted("api", newId(), request),
      progress: (progress) => monitor.generationProgress(progress),
      ended: (outcome) => monitor.apiRequestEnded(outcome),
    },
  });

  // Saved system prompts and the chat view's token counts (counted by the engine's tokenizer).
  const composeApi = createComposeApi(new SystemPrompts(paths.systemPrompts), new TokenCounts({ chats, models: host }));

  const api: CoreApi = {
    ...lab.api,
    ...composeApi,
    ...apiServer.api,
    ...createChatApi(chats, replies, emit, options.openExternal),
    getAppInfo: () =>
      Promise.resolve({
        version: options.version,
        shell: options.shell,
        platform: `${os.platform()} ${os.arch()}`,
        dataDir: paths.home,
        modelFolders: libraryService.modelFolders(),
      }),
    getEngineState: () => Promise.resolve(host.state),
    listModels: () => Promise.resolve(library.list()),
    rescanModels: async () => {
      const models = await library.scan();
      emit({ type: "models", models });
      return models;
    },
    loadModel: ({ modelId, ...asked }) => host.load(modelId, asked),
    getLoadChoice: async ({ modelId }) => {
      await library.resolve(modelId);
      return loadChoices.recall(modelId);
    },
    getLoadDefaults: ({ modelId }) => host.loadDefaults(modelId),
    getLastModel: async () => ({ modelId: await loadChoices.recallLast() }),
    unloadModel: () => host.unload(),
    // A refused watch rejects (the executor turns a throw into a rejection), as from an async method.
    watchHardware: ({ intervalMs }) => new Promise((resolve) => resolve(monitor.watch(localWatcher, intervalMs))),
    unwatchHardware: () => {
      monitor.unwatch(localWatcher);
      return Promise.resolve();
    },
    getComputeCost: () => monitor.computeCost(),
    probeMemoryBandwidth: () => monitor.probeMemoryBandwidth(),
    ...libraryService.api,
  };

  await chats.load();
  await libraryService.start();
  host.start();
  await apiServer.init();

  return {
    api,
    engine: host.engine,
    models: host,
    generations: queue,
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
        watchHardware: ({ intervalMs }) => new Promise((resolve) => resolve(monitor.watch(watcher, intervalMs))),
        unwatchHardware: () => {
          monitor.unwatch(watcher);
          return Promise.resolve();
        },
      };
      const rpc: BirpcReturn<RendererApi, CoreApi> = createBirpc<RendererApi, CoreApi>(connectionApi, {
        post: (message) => channel.post(encodeRpcMessage(message)),
        // The envelope is checked before birpc sees a message; a bad one closes this channel only.
        on: (listener) => receiveCheckedRpc(channel, listener),
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
      queue.close(new QuantaError("engine_unavailable", "Quanta is shutting down."));
      await libraryService.dispose();
      await host.dispose();
    },
  };
}
