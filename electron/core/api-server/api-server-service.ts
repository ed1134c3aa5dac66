// The local API server as a service of the core: its settings, the HTTP server's lifecycle,
// the request log, idle unloading, and the contract methods the Server view calls.
// app-core composes it and spreads its `api` into the contract.

import type { ApiServerCoreApi } from "../../contract/api.js";
import { QuantaError, toWireError, type WireError } from "../../contract/errors.js";
import type { ApiServerSettings, ApiServerState, ApiServerStatus, CoreEvent, ModelSummary } from "../../contract/types.js";
import { startApiHttpServer, type RunningApiServer } from "./api-http-server.js";
import { generateApiKey, keyRequired } from "./auth.js";
import { CompletionRunner, type MonitorPort } from "./completion-runner.js";
import type { GenerationQueuePort } from "./generation-port.js";
import { isLoopbackHost } from "../net/host-check.js";
import { RequestLog } from "./request-log.js";
import { apiSettingsFile, readApiSettings, writeApiSettings } from "./settings.js";

export interface ApiServerServiceOptions {
  home: string;
  emit(event: CoreEvent): void;
  queue: GenerationQueuePort;
  listModels(): ModelSummary[];
  /** When a model's file was last changed (ms since the epoch): `created` in /v1/models. */
  modelModifiedMs(modelId: string): number | null;
  loadedModelId(): string | null;
  loading(): boolean;
  loadModel(modelId: string): Promise<void>;
  /** Unloads the model (refused while a chat reply is being written). */
  unloadModel(): Promise<void>;
  monitor: MonitorPort;
}

export interface ApiServerService {
  readonly api: ApiServerCoreApi;
  /** Reads the settings and starts the server when it is set to start with Quanta. */
  init(): Promise<void>;
  /**
   * Starts the server with settings for this run only (`quanta serve --api-port …`), on top
   * of the saved ones; they are not saved.
   */
  startWith(overrides: Partial<ApiServerSettings>): Promise<ApiServerState>;
  dispose(): Promise<void>;
}

export function createApiServerService(options: ApiServerServiceOptions): ApiServerService {
  const file = apiSettingsFile(options.home);
  let saved: ApiServerSettings | null = null;
  let overrides: Partial<ApiServerSettings> = {};
  let server: RunningApiServer | null = null;
  let lastError: WireError | null = null;
  /** The model the API loaded itself, which idle unloading may unload (never one the user loaded). */
  let loadedByApi: string | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let busy = 0;

  const effective = (): ApiServerSettings => {
    if (!saved) throw new QuantaError("internal", "The API server's settings are not read yet.");
    return { ...saved, ...overrides };
  };

  const status = (): ApiServerStatus => ({
    running: server !== null,
    baseUrl: server?.baseUrl ?? null,
    error: lastError,
    waiting: runner.waiting,
  });
  const state = (): ApiServerState => ({ settings: effective(), status: status(), log: log.list() });
  const announce = () => options.emit({ type: "api.status", status: status() });

  const log = new RequestLog((entry) => options.emit({ type: "api.request", entry }));

  function scheduleIdleUnload(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const minutes = saved ? effective().idleUnloadMinutes : null;
    if (minutes === null || loadedByApi === null) return;
    idleTimer = setTimeout(() => {
      idleTimer = null;
      if (busy > 0 || loadedByApi === null || options.loadedModelId() !== loadedByApi) return;
      loadedByApi = null;
      options.unloadModel().catch(() => undefined);
    }, minutes * 60_000);
    idleTimer.unref();
  }

  const runner = new CompletionRunner({
    queue: options.queue,
    listModels: () => options.listModels(),
    modelModifiedMs: (modelId) => options.modelModifiedMs(modelId),
    loadedModelId: () => options.loadedModelId(),
    loading: () => options.loading(),
    loadModel: async (modelId) => {
      await options.loadModel(modelId);
      loadedByApi = modelId;
    },
    settings: effective,
    monitor: {
      started: (label) => {
        busy += 1;
        options.monitor.started(label);
        announce();
      },
      progress: (progress) => options.monitor.progress(progress),
      ended: (outcome) => {
        busy = Math.max(0, busy - 1);
        options.monitor.ended(outcome);
        announce();
      },
    },
    used: () => scheduleIdleUnload(),
  });

  async function start(): Promise<ApiServerState> {
    if (server) return state();
    const settings = effective();
    if (!isLoopbackHost(settings.host) && !keyRequired(settings)) {
      throw new QuantaError("invalid_request", "An API key is required on any address but loopback.");
    }
    try {
      server = await startApiHttpServer({ settings: effective, runner, log });
      lastError = null;
    } catch (error) {
      lastError = toWireError(error);
      announce();
      throw error;
    }
    announce();
    return state();
  }

  async function stop(): Promise<ApiServerState> {
    const running = server;
    server = null;
    await running?.close();
    announce();
    return state();
  }

  async function save(next: ApiServerSettings): Promise<void> {
    await writeApiSettings(file, next);
    saved = next;
  }

  const api: ApiServerCoreApi = {
    getApiServer: () => Promise.resolve(state()),
    startApiServer: () => start(),
    stopApiServer: () => stop(),
    configureApiServer: async ({ settings }) => {
      overrides = Object.fromEntries(Object.entries(overrides).filter(([key]) => !Object.hasOwn(settings, key)));
      await save({ ...(saved as ApiServerSettings), ...settings });
      scheduleIdleUnload();
      if (server) {
        // Address, port and the rest take effect on a fresh listener.
        await stop();
        await start();
      }
      announce();
      return state();
    },
    regenerateApiKey: async () => {
      delete overrides.apiKey;
      await save({ ...(saved as ApiServerSettings), apiKey: generateApiKey() });
      announce();
      return state();
    },
  };

  return {
    api,
    async init() {
      saved = await readApiSettings(file);
      if (saved.startOnLaunch) await start().catch(() => undefined);
    },
    async startWith(next) {
      overrides = { ...overrides, ...next };
      if (server) await stop();
      return start();
    },
    async dispose() {
      if (idleTimer) clearTimeout(idleTimer);
      await stop();
    },
  };
}
