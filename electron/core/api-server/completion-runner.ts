// What every endpoint does with the engine: find the model a request names (loading it when
// "load on request" is on), take a turn in the generation queue, and report the request to
// the hardware monitor, so an API request shows on the timeline like a chat reply.

import { apiModelIds } from "../../contract/api-model-ids.js";
import { QuantaError } from "../../contract/errors.js";
import type { ApiServerSettings, ModelSummary } from "../../contract/types.js";
import type { ApiCompletionRequest, ApiCompletionResult, ApiEmbedResult } from "../../engine/protocol.js";
import type { ApiRequestMarker, ApiRequestOutcome } from "../monitor/hardware-monitor.js";
import { ApiError } from "./errors.js";
import type { GenerationDelta, GenerationQueuePort } from "./generation-port.js";

export interface ApiModel {
  /** The id clients use (api-model-ids.ts). */
  apiId: string;
  /** The library's id. */
  modelId: string;
  summary: ModelSummary;
  loaded: boolean;
  /** The file's last change in Unix seconds (OpenAI's `created`); null when the library does not know it. */
  created: number | null;
}

/** The hardware monitor's view of an API request (a marker at start and end, tokens/s meanwhile). */
export interface MonitorPort {
  started(request: ApiRequestMarker): void;
  progress(progress: { generatedTokens: number; contextUsed: number }): void;
  ended(outcome: ApiRequestOutcome): void;
}

export interface RunnerDeps {
  queue: GenerationQueuePort;
  listModels(): ModelSummary[];
  modelModifiedMs(modelId: string): number | null;
  loadedModelId(): string | null;
  /** A model is being loaded right now (by anyone). */
  loading(): boolean;
  loadModel(modelId: string): Promise<void>;
  settings(): ApiServerSettings;
  monitor: MonitorPort;
  /** A request used this model (for the idle unload timer). */
  used(modelId: string): void;
}

export interface RunOptions {
  model: ApiModel;
  client: string;
  endpoint: string;
  signal: AbortSignal;
  /** The client asked not to wait for a model to load (header "X-Quanta-Wait: false"): 503 instead. */
  noWait: boolean;
  onDelta?: (delta: GenerationDelta) => void;
  /** Told how many requests are ahead once the request is queued. */
  onQueued?: (position: number) => void;
}

export class CompletionRunner {
  constructor(private readonly deps: RunnerDeps) {}

  get waiting(): number {
    return this.deps.queue.waiting;
  }

  models(): ApiModel[] {
    const usable = this.deps.listModels().filter((model) => model.error === null);
    const ids = apiModelIds(usable);
    const loaded = this.deps.loadedModelId();
    return usable.map((summary) => {
      const modified = this.deps.modelModifiedMs(summary.id);
      return {
        apiId: ids.get(summary.id) ?? summary.id,
        modelId: summary.id,
        summary,
        loaded: summary.id === loaded,
        created: modified === null ? null : Math.floor(modified / 1000),
      };
    });
  }

  /** The model a request names (its API id, or the library id), or the loaded one when it names none. */
  resolveModel(requested: string | undefined): ApiModel {
    const models = this.models();
    if (requested === undefined || requested === "") {
      const loaded = models.find((model) => model.loaded);
      if (loaded) return loaded;
      throw new ApiError(
        400,
        'No model is loaded. Name one in "model" (GET /v1/models lists the ids), or load one in Quanta.',
        "model",
        "model_not_loaded",
      );
    }
    const found = models.find((model) => model.apiId === requested) ?? models.find((model) => model.modelId === requested);
    if (!found) {
      throw new ApiError(
        404,
        `The model "${requested.slice(0, 200)}" does not exist. GET /v1/models lists the ids.`,
        "model",
        "model_not_found",
      );
    }
    if (!found.loaded && !this.deps.settings().loadOnRequest) {
      throw new ApiError(
        400,
        `The model "${found.apiId}" is not loaded, and loading models on request is off. Load it in Quanta's Models view, or turn "Load models on request" on in the Server view.`,
        "model",
        "model_not_loaded",
      );
    }
    return found;
  }

  complete(request: Omit<ApiCompletionRequest, "requestId">, options: RunOptions): Promise<ApiCompletionResult> {
    return this.inTurn(options, async (engine, requestId) => {
      const marker: ApiRequestMarker = { endpoint: options.endpoint, model: options.model.apiId };
      this.deps.monitor.started(marker);
      try {
        const result = await engine.complete({ ...request, requestId });
        this.deps.monitor.ended({
          ...marker,
          outcome: result.finishReason === "aborted" ? "stopped" : "done",
          generatedTokens: result.completionTokens,
          tokensPerSecond: result.tokensPerSecond,
        });
        return result;
      } catch (error) {
        this.deps.monitor.ended({ ...marker, outcome: "failed", generatedTokens: 0, tokensPerSecond: null });
        throw error;
      }
    });
  }

  embed(inputs: string[], options: RunOptions): Promise<ApiEmbedResult> {
    return this.inTurn(options, (engine) => engine.embed({ inputs }));
  }

  private async inTurn<T>(
    options: RunOptions,
    work: (engine: Parameters<Parameters<GenerationQueuePort["submit"]>[0]["run"]>[0]["engine"], requestId: string) => Promise<T>,
  ): Promise<T> {
    const { model } = options;
    if (options.noWait && (this.deps.loading() || this.deps.loadedModelId() !== model.modelId)) {
      throw new ApiError(
        503,
        `The model "${model.apiId}" is not ready yet (it is loading or not loaded), and the request asked not to wait.`,
        "model",
        "model_loading",
      );
    }
    const ticket = this.deps.queue.submit<T>({
      owner: { kind: "api", client: options.client },
      signal: options.signal,
      ...(options.onDelta
        ? {
            onDelta: (delta: GenerationDelta) => {
              this.deps.monitor.progress(delta);
              options.onDelta?.(delta);
            },
          }
        : {}),
      run: async ({ requestId, engine }) => {
        if (options.signal.aborted) throw new QuantaError("invalid_request", "The client went away before its turn.");
        if (this.deps.loadedModelId() !== model.modelId) await this.deps.loadModel(model.modelId);
        this.deps.used(model.modelId);
        try {
          return await work(engine, requestId);
        } finally {
          this.deps.used(model.modelId);
        }
      },
    });
    options.onQueued?.(ticket.position);
    return ticket.done;
  }
}
