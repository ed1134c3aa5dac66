// The engine's one loaded model: llama.cpp's backend, the model, its context and sequence,
// and the chat template. Every stage disposes what it replaces; one operation at a time.

import {
  getLlama,
  resolveChatWrapper,
  specializedChatWrapperTypeNames,
  type SpecializedChatWrapperTypeName,
  LlamaLogLevel,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaModel,
} from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type { LoadOptionsInEffect, MemoryFootprint, ThreadCalibration } from "../contract/types.js";
import { useBatchThreads } from "./batch-threads.js";
import { describeBuild, LOCAL_BUILD_CMAKE_OPTIONS } from "./engine-build.js";
import { withLoadLog } from "./load-log.js";
import { contextOptions, ggmlTypeName, measureFootprint } from "./memory-footprint.js";
import { calibrateBatchThreads, calibrateThreads } from "./threads.js";
import type { EngineLoadResult, EngineModelUsage, EngineUsage, LoadRequest } from "./protocol.js";
import type { GenerationTarget } from "./generation.js";

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  target: GenerationTarget;
  /** What the model and its context occupy, read from llama.cpp's buffers once at load (they do not grow). */
  footprint: MemoryFootprint;
}

function isSpecializedName(name: string): name is SpecializedChatWrapperTypeName {
  return (specializedChatWrapperTypeNames as readonly string[]).includes(name);
}

let llamaPromise: Promise<Llama> | null = null;

/**
 * One llama.cpp backend per process: the build made on this machine by `quanta engine build`
 * where there is one, else node-llama-cpp's prebuilt binaries; never a build started here.
 */
export function getBackend(): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: process.env.QUANTA_GPU === "off" ? false : "auto",
    build: "never",
    // The options Quanta builds with: node-llama-cpp finds a local build by them.
    cmakeOptions: { ...LOCAL_BUILD_CMAKE_OPTIONS },
    // Thread counts are chosen per context; a max of 0 makes them exact, not hints.
    maxThreads: 0,
    logLevel: LlamaLogLevel.error,
  }).catch((error: unknown) => {
    llamaPromise = null;
    throw new QuantaError("engine_unavailable", `llama.cpp could not start: ${error instanceof Error ? error.message : String(error)}`);
  });
  return llamaPromise;
}

/** The load options in effect, read back from node-llama-cpp (mlock has no read-back: as asked). */
function inEffect(model: LlamaModel, context: LlamaContext, mlock: boolean): LoadOptionsInEffect {
  const flash = context.flashAttention;
  return {
    contextSize: context.contextSize,
    batchSize: context.batchSize,
    flashAttention: flash === "auto" ? "auto" : flash ? "on" : "off",
    kvCacheKeyType: ggmlTypeName(context.kvCacheKeyType),
    kvCacheValueType: ggmlTypeName(context.kvCacheValueType),
    mmap: model.useMmap,
    mlock,
  };
}

export class ModelSession {
  private loaded: Loaded | null = null;

  get target(): GenerationTarget | null {
    return this.loaded?.target ?? null;
  }

  /**
   * The loaded target, fitted to a conversation: its own (smaller) context window and, when
   * asked, a chat template other than the model's.
   */
  targetFor(options: { contextLimit?: number; chatTemplate?: string | null }): GenerationTarget | null {
    const loaded = this.loaded;
    if (!loaded) return null;
    const { target } = loaded;
    const name = options.chatTemplate ?? null;
    let chatWrapper = target.chatWrapper;
    if (name !== null) {
      if (!isSpecializedName(name)) throw new QuantaError("invalid_request", `There is no chat template called "${name}".`);
      chatWrapper = this.wrappers.get(name) ?? resolveChatWrapper(loaded.model, { type: name });
      this.wrappers.set(name, chatWrapper);
    }
    const contextSize = Math.min(options.contextLimit ?? target.contextSize, target.contextSize);
    return { ...target, chatWrapper, contextSize };
  }

  private readonly wrappers = new Map<string, ChatWrapper>();

  async load(request: LoadRequest, onProgress: (progress: number, phase: "loading" | "calibrating") => void): Promise<EngineLoadResult> {
    await this.unload();
    this.wrappers.clear();
    const llama = await getBackend();
    const loading = await withLoadLog(llama, () =>
      llama.loadModel({
        modelPath: request.path,
        gpuLayers: request.gpuLayers,
        useMmap: request.mmap === undefined || request.mmap === "auto" ? "auto" : request.mmap === "on",
        useMlock: request.mlock ?? false,
        onLoadProgress: (progress) => onProgress(progress, "loading"),
      }),
    );
    if (!loading.ok) {
      const { error, logLine } = loading;
      const detail = error instanceof Error ? error.message : String(error);
      // The log's reason is what the user can act on; node-llama-cpp's message rarely says more.
      throw new QuantaError("model_load_failed", `llama.cpp could not load this model: ${logLine ?? detail}`);
    }
    const model: LlamaModel = loading.value;
    try {
      const calibration: ThreadCalibration | null =
        request.threads === null
          ? await calibrateThreads(model, llama.cpuMathCores, (fraction) => onProgress(fraction, "calibrating"))
          : null;
      const threads = calibration?.chosen ?? request.threads ?? 1;
      const batchCalibration =
        request.batchThreads == null
          ? await calibrateBatchThreads(model, llama.cpuMathCores, (fraction) => onProgress(fraction, "calibrating"))
          : null;
      const batchThreads = batchCalibration?.chosen ?? request.batchThreads ?? threads;
      const contextSize = Math.min(request.contextSize, model.trainContextSize);
      const { kvCacheKeyType, kvCacheValueType, ...sized } = contextOptions(request);
      // node-llama-cpp marks its KV cache type options experimental: Quanta offers only the types
      // llama.cpp supports on every backend (F16, Q8_0, Q4_0), and the core refuses the head
      // sizes and the flash attention setting they cannot work with before they get here.
      const context = await model.createContext({
        contextSize,
        threads,
        ...sized,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only way to set the cache type in node-llama-cpp 3.x; see above
        experimentalKvCacheKeyType: kvCacheKeyType,
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- as the key type
        experimentalKvCacheValueType: kvCacheValueType,
      });
      // Prompts with the batch count, replies with the generation count.
      const twoCounts = useBatchThreads(context, { generation: threads, batch: batchThreads });
      const chatWrapper: ChatWrapper = resolveChatWrapper(model);
      const footprint = await measureFootprint(model, context, llama.gpu !== false);
      this.loaded = {
        model,
        context,
        target: { model, sequence: context.getSequence(), chatWrapper, contextSize: context.contextSize, threads },
        footprint,
      };
      return {
        contextSize: context.contextSize,
        threads,
        calibration,
        batchThreads: twoCounts ? batchThreads : threads,
        batchCalibration,
        gpu: llama.gpu === false ? null : llama.gpu,
        gpuLayers: model.gpuLayers,
        gpuLayersAsked: request.gpuLayers,
        chatTemplate: chatWrapper.wrapperName,
        options: inEffect(model, context, request.mlock ?? false),
        build: describeBuild(llama),
      };
    } catch (error) {
      await model.dispose();
      if (error instanceof QuantaError) throw error;
      throw new QuantaError(
        "model_load_failed",
        `The model loaded but could not be prepared for chat: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async usage(): Promise<EngineUsage> {
    const cpu = process.cpuUsage();
    const llama = llamaPromise ? await llamaPromise.catch(() => null) : null;
    const vram = llama && llama.gpu !== false ? await llama.getVramState() : null;
    return {
      pid: process.pid,
      cpuMicros: cpu.user + cpu.system,
      rssBytes: process.memoryUsage.rss(),
      model: this.modelUsage(),
      vram: vram ? { totalBytes: vram.total, usedBytes: vram.used } : null,
      gpuNames: llama && llama.gpu !== false ? await llama.getGpuDeviceNames() : [],
    };
  }

  private modelUsage(): EngineModelUsage | null {
    const loaded = this.loaded;
    if (!loaded) return null;
    return {
      ...loaded.footprint,
      threads: loaded.target.threads,
      contextUsed: loaded.target.sequence.nextTokenIndex,
      contextSize: loaded.target.contextSize,
    };
  }

  async unload(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = null;
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
  }
}
