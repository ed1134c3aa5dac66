// The hardware monitor: what the machine and Quanta's processes are doing, sampled while a
// renderer watches, kept for the last 10 minutes, with markers where the model was loaded,
// replies ran and the engine restarted; and what each token costs (compute-cost.ts).
//
// The core creates one and feeds it (model loaded, reply started, progress, reply ended,
// engine restarted); the readings come from system-reader.ts, gpu-reader.ts, the engine's
// usage() call and an optional hook for the Electron shell's own processes.
//
// Events go to watchers only: a watcher is one renderer connection (or the core's in-process
// api), and each gets "monitor.sample" and "monitor.marker" events while it watches.

import { MONITOR_WINDOW_MS, MIN_SAMPLE_INTERVAL_MS } from "../../contract/api.js";
import type {
  BandwidthProbe,
  MarkerDetails,
  ChatMessage,
  ComputeCost,
  CoreEvent,
  GenerationReading,
  GpuReading,
  HardwareSample,
  MissingReading,
  ModelFootprint,
  MonitorHistory,
  MonitorMarker,
  ProcessReading,
} from "../../contract/types.js";
import type { EngineUsage } from "../../engine/protocol.js";
import { readGgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { BandwidthMemory, measureMemoryBandwidth, type ProbeOptions } from "./bandwidth-probe.js";
import { computeCost, modelShapeFromHeader, type ModelShape } from "./compute-cost.js";
import { GpuReader, type GpuReaderOptions } from "./gpu-reader.js";
import { ProcessCpuRate, TokenRate } from "./rates.js";
import { Sampler } from "./sampler.js";
import { round4, SystemReader, type SystemReaderOptions } from "./system-reader.js";
import { shareUnchanged, TimeWindow } from "./time-window.js";

/** One receiver of monitor events: a renderer connection, or the core's own api. */
export interface MonitorWatcher {
  send(event: CoreEvent): void;
}

/** The engine, as the monitor sees it: its usage() when the process is up, else null. */
export interface EngineProbe {
  usage(): Promise<EngineUsage>;
}

export interface HardwareMonitorOptions {
  /** The running engine's API, or null while it starts or restarts (never starts one). */
  engine(): EngineProbe | null;
  /** The engine's pid whenever a process exists (also while it starts), to tell it apart in processMetrics. */
  enginePid?(): number | undefined;
  /** The Electron shell's renderer and GPU processes (app.getAppMetrics()); absent headless. */
  processMetrics?: () => ProcessReading[];
  /** memory-bandwidth.json in the data folder. */
  bandwidthFile: string;
  gpu?: GpuReaderOptions;
  system?: SystemReaderOptions;
  probe?: ProbeOptions;
}

/** The model the core has loaded, as the monitor needs it. */
/** A local API request on the timeline: the endpoint it called and the model it named (its API id). */
export interface ApiRequestMarker {
  endpoint: string;
  model: string;
}

export interface ApiRequestOutcome extends ApiRequestMarker {
  outcome: "done" | "stopped" | "failed";
  generatedTokens: number;
  tokensPerSecond: number | null;
}

export interface MonitoredModel {
  modelId: string;
  name: string;
  path: string;
  contextSize: number;
  gpuLayers: number;
}

/** What sampling itself has cost so far (the benchmark reads it). */
export interface SamplingCost {
  samples: number;
  /** Core process CPU time (user + system) spent between the start and end of each sample. */
  cpuMicros: number;
  wallMs: number;
}

interface LiveGeneration {
  chatId: string;
  messageId: string;
  startedAt: number;
  firstTokenAt: number | null;
  generatedTokens: number;
  contextUsed: number | null;
  rate: TokenRate;
}

const MAX_MARKERS = 2000;
/** An engine call unanswered this long is given up, and the next sample asks again. */
const ABANDON_CALL_MS = 10_000;

export class HardwareMonitor {
  private readonly sampler: Sampler<MonitorWatcher>;
  private readonly samples = new TimeWindow<HardwareSample>(MONITOR_WINDOW_MS, Math.ceil(MONITOR_WINDOW_MS / MIN_SAMPLE_INTERVAL_MS) + 1);
  private readonly markers = new TimeWindow<MonitorMarker>(MONITOR_WINDOW_MS, MAX_MARKERS);
  private readonly system: SystemReader;
  private readonly gpu: GpuReader;
  private readonly bandwidth: BandwidthMemory;
  private readonly coreCpu = new ProcessCpuRate();
  private readonly engineCpu = new ProcessCpuRate();
  private engineCall: { promise: Promise<EngineUsage>; since: number } | null = null;

  private model: MonitoredModel | null = null;
  private shape: { modelId: string; shape: Promise<ModelShape> } | null = null;
  private generation: LiveGeneration | null = null;
  /** The last finished reply's speed with the loaded model, for the compute cost between replies. */
  private lastTokensPerSecond: number | null = null;
  private lastContextUsed = 0;
  private probing: Promise<BandwidthProbe> | null = null;
  private cost: SamplingCost = { samples: 0, cpuMicros: 0, wallMs: 0 };

  constructor(private readonly options: HardwareMonitorOptions) {
    this.system = new SystemReader(options.system);
    this.gpu = new GpuReader(options.gpu);
    this.bandwidth = new BandwidthMemory(options.bandwidthFile);
    this.sampler = new Sampler<MonitorWatcher>({
      start: (intervalMs) => this.startSampling(intervalMs),
      sample: () => this.sample(),
      retime: (intervalMs) => this.gpu.start(intervalMs),
      stop: () => this.gpu.stop(),
    });
  }

  // ---- watchers -----------------------------------------------------------------------------

  /** Starts (or re-times) samples for one watcher and returns the recorded window. */
  watch(watcher: MonitorWatcher, intervalMs: number): MonitorHistory {
    const interval = this.sampler.watch(watcher, intervalMs);
    return this.history(interval);
  }

  unwatch(watcher: MonitorWatcher): void {
    this.sampler.unwatch(watcher);
  }

  get sampling(): boolean {
    return this.sampler.active;
  }

  history(intervalMs = this.sampler.intervalMs): MonitorHistory {
    const now = Date.now();
    return { intervalMs, windowMs: MONITOR_WINDOW_MS, samples: this.samples.toArray(now), markers: this.markers.toArray(now) };
  }

  samplingCost(): SamplingCost {
    return { ...this.cost };
  }

  dispose(): void {
    this.sampler.stopAll();
  }

  // ---- what the core tells the monitor -----------------------------------------------------

  modelLoaded(model: MonitoredModel, threads: number): void {
    this.model = model;
    this.shape = null; // read the header again: the file may have been replaced since
    this.lastTokensPerSecond = null;
    this.lastContextUsed = 0;
    this.addMarker("model-loaded", `${model.name} (${threads} thread${threads === 1 ? "" : "s"}, context ${model.contextSize})`, {
      model: model.name,
      threads,
      contextSize: model.contextSize,
    });
  }

  modelUnloaded(): void {
    this.model = null;
    this.lastTokensPerSecond = null;
  }

  /** `request`: set for a local API request, which the marker names by its endpoint and model. */
  generationStarted(chatId: string, messageId: string, request?: ApiRequestMarker): void {
    this.generation = {
      chatId,
      messageId,
      startedAt: performance.now(),
      firstTokenAt: null,
      generatedTokens: 0,
      contextUsed: null,
      rate: new TokenRate(),
    };
    if (request) {
      this.addMarker("generation-started", `API ${request.endpoint} · ${request.model}`, {
        endpoint: request.endpoint,
        model: request.model,
      });
      return;
    }
    this.addMarker(
      "generation-started",
      this.model ? `Reply with ${this.model.name}` : "Reply",
      this.model ? { model: this.model.name } : {},
    );
  }

  /** A delta from the engine: the reply's token count and the context in use so far. */
  generationProgress(progress: { generatedTokens: number; contextUsed: number }): void {
    const generation = this.generation;
    if (!generation) return;
    const now = performance.now();
    if (generation.firstTokenAt === null && progress.generatedTokens > 0) generation.firstTokenAt = now;
    generation.generatedTokens = progress.generatedTokens;
    generation.contextUsed = progress.contextUsed;
    generation.rate.add(now, progress.generatedTokens);
  }

  generationEnded(message: ChatMessage): void {
    const generation = this.generation;
    this.generation = null;
    if (generation?.contextUsed != null) this.lastContextUsed = generation.contextUsed;
    const stats = message.stats;
    if (stats && stats.tokensPerSecond > 0) this.lastTokensPerSecond = stats.tokensPerSecond;
    const outcome =
      message.status === "failed" ? `failed (${message.error?.code ?? "error"})` : message.status === "stopped" ? "stopped" : "done";
    const speed = stats ? `: ${stats.generatedTokens} tokens, ${stats.tokensPerSecond} tok/s` : "";
    this.addMarker("generation-ended", `Reply ${outcome}${speed}`, {
      outcome: message.status === "failed" ? "failed" : message.status === "stopped" ? "stopped" : "done",
      ...(stats ? { tokens: stats.generatedTokens, tokensPerSecond: stats.tokensPerSecond } : {}),
    });
  }

  /** The end of a local API request (started with generationStarted("api", requestId, request)). */
  apiRequestEnded(outcome: ApiRequestOutcome): void {
    const generation = this.generation;
    this.generation = null;
    if (generation?.contextUsed != null) this.lastContextUsed = generation.contextUsed;
    if (outcome.tokensPerSecond !== null && outcome.tokensPerSecond > 0) this.lastTokensPerSecond = outcome.tokensPerSecond;
    const speed = outcome.tokensPerSecond === null ? "" : `: ${outcome.generatedTokens} tokens, ${outcome.tokensPerSecond} tok/s`;
    // The label stays English for logs and exports; the details let the renderer word it in the user's language.
    this.addMarker("generation-ended", `API ${outcome.endpoint} · ${outcome.model} ${outcome.outcome}${speed}`, {
      endpoint: outcome.endpoint,
      model: outcome.model,
      outcome: outcome.outcome,
      ...(outcome.tokensPerSecond === null ? {} : { tokens: outcome.generatedTokens, tokensPerSecond: outcome.tokensPerSecond }),
    });
  }

  /** The engine died: what it held is gone. */
  engineStopped(): void {
    this.model = null;
    this.engineCall = null;
  }

  engineRestarted(): void {
    this.engineCall = null;
    this.addMarker("engine-restarted", "Engine restarted after it stopped unexpectedly");
  }

  // ---- compute cost and bandwidth ----------------------------------------------------------

  async computeCost(): Promise<ComputeCost | null> {
    const model = this.model;
    if (!model) return null;
    if (this.shape?.modelId !== model.modelId) {
      const shape = readGgufHeader(model.path).then((header) => modelShapeFromHeader(header, model.path));
      this.shape = { modelId: model.modelId, shape };
      shape.catch(() => {
        if (this.shape?.shape === shape) this.shape = null;
      });
    }
    const shape = await this.shape.shape;

    const generation = this.generation;
    let contextUsed = generation?.contextUsed ?? null;
    if (contextUsed === null) {
      const usage = await this.engineUsage(2000).catch(() => null);
      contextUsed = usage?.model?.contextUsed ?? this.lastContextUsed;
    }
    const live = generation ? generation.rate.perSecond(performance.now()) : 0;
    return computeCost({
      modelId: model.modelId,
      shape,
      contextUsed,
      tokensPerSecond: live > 0 ? live : this.lastTokensPerSecond,
      bandwidth: await this.bandwidth.recall().catch(() => null),
      gpuLayers: model.gpuLayers,
    });
  }

  /** Measures memory bandwidth once at a time and remembers it for this machine. */
  probeMemoryBandwidth(): Promise<BandwidthProbe> {
    this.probing ??= (async () => {
      try {
        const probe = await measureMemoryBandwidth(this.options.probe);
        await this.bandwidth.remember(probe);
        return probe;
      } finally {
        this.probing = null;
      }
    })();
    return this.probing;
  }

  // ---- sampling ------------------------------------------------------------------------------

  private async startSampling(intervalMs: number): Promise<void> {
    this.gpu.start(intervalMs);
    this.coreCpu.reset();
    this.coreCpu.update(process.pid, totalMicros(process.cpuUsage()), performance.now());
    this.engineCpu.reset();
    this.system.reset();
    await this.engineUsage(1000)
      .then((usage) => this.engineCpu.update(usage.pid, usage.cpuMicros, performance.now()))
      .catch(() => undefined);
  }

  private async sample(): Promise<void> {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const timeoutMs = Math.min(2000, Math.max(500, this.sampler.intervalMs));

    const missing: MissingReading[] = [];
    const pending = this.engineUsage(timeoutMs).then(
      (usage) => ({ usage, at: performance.now() }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    );
    // Read while the engine answers; the engine's CPU share is timed by its own answer.
    const system = this.system.read();
    const engine = await pending;
    const now = performance.now();
    missing.push(...system.missing);

    const processes: ProcessReading[] = [];
    const coreCpu = this.coreCpu.update(process.pid, totalMicros(process.cpuUsage()), now);
    if (coreCpu !== null) processes.push({ role: "core", pid: process.pid, cpu: round4(coreCpu), rssBytes: process.memoryUsage.rss() });

    let usage: EngineUsage | null = null;
    if ("usage" in engine) {
      usage = engine.usage;
      const cpu = this.engineCpu.update(usage.pid, usage.cpuMicros, engine.at);
      if (cpu === null) {
        missing.push({ what: "processes", reason: "engine: first reading since it started; its CPU use is measured between two samples" });
      } else {
        processes.push({ role: "engine", pid: usage.pid, cpu: round4(cpu), rssBytes: usage.rssBytes });
      }
      if (usage.model) this.lastContextUsed = usage.model.contextUsed;
    } else {
      missing.push({ what: "processes", reason: `engine: ${engine.error}` });
    }

    if (this.options.processMetrics) {
      try {
        const known = new Set([process.pid, usage?.pid, this.options.enginePid?.()]);
        processes.push(...this.options.processMetrics().filter((reading) => !known.has(reading.pid)));
      } catch (error) {
        missing.push({ what: "processes", reason: `processes: ${error instanceof Error ? error.message : String(error)}` });
      }
    }

    const gpus = this.gpuReadings(usage, missing);
    const previous = this.samples.latest;
    const sample: HardwareSample = {
      at: Date.now(),
      cpu: system.cpu,
      memory: system.memory,
      gpus: shareUnchanged(previous?.gpus, gpus),
      processes,
      model: shareUnchanged(previous?.model ?? undefined, this.footprint(usage)),
      generation: this.generationReading(usage, now),
      missing: shareUnchanged(previous?.missing, missing),
    };
    this.samples.push(sample);
    this.sendToWatchers({ type: "monitor.sample", sample });

    const cpuAfter = process.cpuUsage(cpuBefore);
    this.cost.samples += 1;
    this.cost.cpuMicros += cpuAfter.user + cpuAfter.system;
    this.cost.wallMs += performance.now() - wallBefore;
  }

  /**
   * The engine's usage(), or a rejection saying why there is none. One call at a time: when the
   * engine is too busy to answer (a native call holding its thread), later samples wait on the
   * same call instead of piling up more; a call unanswered for ABANDON_CALL_MS is given up.
   */
  private engineUsage(timeoutMs: number): Promise<EngineUsage> {
    const engine = this.options.engine();
    if (!engine) {
      this.engineCall = null; // whatever was asked of an engine that is gone will not be answered
      return Promise.reject(new Error("not running (starting, or restarting after it stopped)"));
    }
    const now = performance.now();
    if (!this.engineCall || now - this.engineCall.since > ABANDON_CALL_MS) {
      const entry = { promise: engine.usage(), since: now };
      this.engineCall = entry;
      const clear = () => {
        if (this.engineCall === entry) this.engineCall = null;
      };
      entry.promise.then(clear, clear);
    }
    const call = this.engineCall.promise;
    return new Promise<EngineUsage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not answer within ${timeoutMs} ms (busy)`)), timeoutMs);
      call.then(
        (usage) => {
          clearTimeout(timer);
          resolve(usage);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? new Error(`no reading (${error.message})`) : new Error("no reading"));
        },
      );
    });
  }

  private gpuReadings(usage: EngineUsage | null, missing: MissingReading[]): GpuReading[] {
    const snapshot = this.gpu.read();
    if (this.gpu.unavailable && usage?.vram) {
      // No nvidia-smi, but llama.cpp uses a GPU (Metal, Vulkan, CUDA without the tools): its
      // memory figures are all there is.
      missing.push({
        what: "gpu-utilization",
        reason: "gpu: utilization and temperature need NVIDIA's nvidia-smi; memory figures come from llama.cpp",
      });
      return [
        {
          index: 0,
          name: usage.gpuNames.join(" + ") || "GPU",
          utilization: null,
          temperatureC: null,
          vramUsedBytes: usage.vram.usedBytes,
          vramTotalBytes: usage.vram.totalBytes,
        },
      ];
    }
    missing.push(...snapshot.missing);
    return snapshot.gpus;
  }

  private footprint(usage: EngineUsage | null): ModelFootprint | null {
    const model = this.model;
    if (!usage?.model || !model) return null;
    const { weightsBytes, kvCacheBytes, computeBytes, ramBytes, vramBytes, totalLayers, gpuLayers, threads } = usage.model;
    return { modelId: model.modelId, weightsBytes, kvCacheBytes, computeBytes, ramBytes, vramBytes, totalLayers, gpuLayers, threads };
  }

  private generationReading(usage: EngineUsage | null, now: number): GenerationReading | null {
    const generation = this.generation;
    if (!generation) return null;
    return {
      chatId: generation.chatId,
      messageId: generation.messageId,
      generatedTokens: generation.generatedTokens,
      tokensPerSecond: Math.round(generation.rate.perSecond(now) * 10) / 10,
      timeToFirstTokenMs: generation.firstTokenAt === null ? null : Math.round(generation.firstTokenAt - generation.startedAt),
      contextUsed: generation.contextUsed ?? usage?.model?.contextUsed ?? 0,
      contextSize: usage?.model?.contextSize ?? this.model?.contextSize ?? 0,
    };
  }

  private addMarker(kind: MonitorMarker["kind"], label: string, details: MarkerDetails = {}): void {
    const marker: MonitorMarker = { at: Date.now(), kind, label, details };
    this.markers.push(marker);
    this.sendToWatchers({ type: "monitor.marker", marker });
  }

  private sendToWatchers(event: CoreEvent): void {
    for (const watcher of this.sampler.watcherList()) {
      try {
        watcher.send(event);
      } catch {
        // A watcher that cannot take an event (a closing connection) does not stop the others.
      }
    }
  }
}

function totalMicros(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}
