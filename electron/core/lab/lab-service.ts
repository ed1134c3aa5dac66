// The quantization lab's orchestration in the core: quantize jobs (queued, one at a time,
// each in an engine process of its own, cancelled by ending that process) and comparison
// runs over N variants of one model (the reference first, its distribution kept on disk,
// one variant loaded at a time), saved as JSON under the data folder.

import { promises as fs, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type {
  EvalText,
  LabEvent,
  LabPhase,
  LabRun,
  LabRunSummary,
  QuantizeJob,
  QuantizePlan,
  QuantVariantResult,
  SideBySide,
} from "../../contract/types.js";
import type { LabContinuation, LabEngineProgress, LabMeasurement } from "../../engine/lab-protocol.js";
// Pure tables and the size prediction only: the quantizer's native code loads in the engine.
import { estimateQuantizedBytes, IMATRIX_TYPES, QUANT_TYPE_NAMES, QUANT_TYPES, SOURCE_TYPES, type QuantType } from "../../engine/quantize.js";
import { newId } from "../chats/chat-store.js";
import type { SpawnEngine } from "../engine-client/engine-process.js";
import { modelFileKey, type ThreadMemory } from "../engine-client/thread-memory.js";
import { describeGguf, readGgufHeader } from "../library/gguf-reader.js";
import { modelIdFor } from "../library/model-library.js";
import { EvalTexts } from "./eval-texts.js";
import { startLabEngine, type LabEngine } from "./lab-engine.js";
import { LabRunStore } from "./run-store.js";
import { checkVariantsOfOneModel, readVariant, type VariantFile } from "./variant-check.js";

/** Types offered as targets: the quantized ones (float targets make no smaller variant). */
export const LAB_TARGET_TYPES: readonly QuantType[] = QUANT_TYPE_NAMES.filter((type) => !["F32", "F16", "BF16"].includes(type));

/** Like llama-bench's pp512 and tg128. */
export const PROMPT_TOKENS = 512;
export const GENERATE_TOKENS = 128;

/** Share of one variant's progress each phase takes, roughly as long as each runs. */
const PHASE_SPAN: Record<LabPhase, [number, number]> = {
  quantizing: [0, 1],
  loading: [0, 0.1],
  calibrating: [0.1, 0.2],
  speed: [0.2, 0.35],
  evaluating: [0.35, 1],
};

export interface LabServiceOptions {
  home: string;
  spawnEngine: SpawnEngine;
  threadMemory: ThreadMemory;
  emit: (event: LabEvent) => void;
  /** Called after a variant is written, so the library shows it. */
  onVariantWritten?: () => Promise<void>;
  /** Bytes the chat's loaded model occupies: two big models are never loaded at once. */
  chatModelBytes?: () => number;
  /** Threads llama.cpp quantizes with. Default: every core. */
  quantizeThreads?: number;
}

/** `name-F32.gguf` → `name-Q4_K_M.gguf`: a trailing type in the source's name is replaced. */
export function variantFileName(sourceFile: string, type: string): string {
  const base = path.basename(sourceFile).replace(/\.gguf$/i, "");
  const stem = base.replace(/[-_.](f32|f16|bf16|q8_0|fp16|fp32)$/i, "");
  return `${stem}-${type}.gguf`;
}

interface RunningJob {
  job: QuantizeJob;
  input: string;
  output: string;
  engine: LabEngine | null;
  cancelled: boolean;
}

export interface ComparisonInput {
  files: Array<{ path: string; modelId: string | null }>;
  text: { id: string; title: string; text: string };
  contextSize: number;
}

export class LabService {
  readonly texts: EvalTexts;
  readonly runs: LabRunStore;
  private readonly jobs: RunningJob[] = [];
  private queue: Promise<void> = Promise.resolve();
  private activeRun: { id: string; engine: LabEngine | null; cancelled: boolean } | null = null;
  /** Every lab engine running now, so that shutting down ends them all. */
  private readonly engines = new Set<LabEngine>();
  private readonly tempDir: string;

  constructor(private readonly options: LabServiceOptions) {
    const lab = path.join(options.home, "lab");
    this.texts = new EvalTexts(path.join(lab, "texts"));
    this.runs = new LabRunStore(path.join(lab, "runs"));
    this.tempDir = path.join(lab, "tmp");
  }

  /** Ends every lab engine (jobs and runs then fail or are saved as they stand). */
  dispose(): void {
    for (const engine of this.engines) engine.stop();
    this.engines.clear();
  }

  /** A lab engine, tracked until it stops. */
  private async engine(onProgress: (progress: LabEngineProgress) => void, onPiece?: (text: string) => void): Promise<LabEngine> {
    const engine = await startLabEngine(this.options.spawnEngine, onProgress, onPiece);
    this.engines.add(engine);
    return {
      api: engine.api,
      stop: (reason) => {
        this.engines.delete(engine);
        engine.stop(reason);
      },
    };
  }

  // ---- Making variants ------------------------------------------------------------------

  /**
   * The types the source can become, each with its predicted size: from llama.cpp's dry run
   * when `dryRun` (an engine process is started for it; a second or so), else, or where the
   * dry run fails, from the type's typical bits per weight.
   */
  async plan(modelId: string, sourcePath: string, dryRun = false): Promise<QuantizePlan> {
    const header = await readGgufHeader(sourcePath);
    const source = describeGguf(header, sourcePath);
    const refusal = SOURCE_TYPES.has(source.fileType)
      ? null
      : `${path.basename(sourcePath)} is already quantized (${source.fileType}). Quantize from an F32, F16, BF16 or Q8_0 file, so one quantization's error does not pile onto another's.`;
    const types = LAB_TARGET_TYPES.filter((type) => type !== source.fileType);
    let dryRunBytes: Record<string, number | null> = {};
    if (dryRun && refusal === null) {
      try {
        const engine = await this.engine(() => undefined);
        try {
          dryRunBytes = await engine.api.labPredict({ input: sourcePath, types: [...types] });
        } finally {
          engine.stop();
        }
      } catch {
        // keep the estimates
      }
    }
    // llama.cpp's total is tensor data only: add the header and each tensor's alignment padding (half on average).
    const overhead = header.dataOffset + Math.round((header.tensors.length * header.alignment) / 2);
    return {
      modelId,
      sourceType: source.fileType,
      refusal,
      options: types.map((type) => {
        const fileName = variantFileName(sourcePath, type);
        const fromDryRun = dryRunBytes[type];
        return {
          type,
          bitsPerWeight: QUANT_TYPES[type].bitsPerWeight,
          predictedBytes: typeof fromDryRun === "number" ? fromDryRun + overhead : estimateQuantizedBytes(header, type),
          predictedBy: typeof fromDryRun === "number" ? "llama.cpp" : "estimate",
          fileName,
          exists: exists(path.join(path.dirname(sourcePath), fileName)),
        };
      }),
    };
  }

  /** Queues one job per type; the variants are written next to the source. */
  async enqueueQuantize(modelId: string, sourcePath: string, types: readonly string[]): Promise<QuantizeJob[]> {
    const plan = await this.plan(modelId, sourcePath);
    if (plan.refusal) throw new QuantaError("invalid_request", plan.refusal);
    // Every type is checked before any job is queued: a refusal queues nothing.
    const chosen = [...new Set(types)].map((type) => {
      const option = plan.options.find((candidate) => candidate.type === type);
      if (!option) {
        if (!Object.hasOwn(QUANT_TYPES, type)) this.refuseType(type);
        throw new QuantaError("invalid_request", `${type} is the source's own type; choose a smaller one.`);
      }
      if (option.exists) throw new QuantaError("invalid_request", `${option.fileName} already exists next to the source. Compare it, or remove it first.`);
      const output = path.join(path.dirname(sourcePath), option.fileName);
      if (this.jobs.some((job) => job.output === output && (job.job.state === "queued" || job.job.state === "running"))) {
        throw new QuantaError("busy", `${option.fileName} is already being made.`);
      }
      return { type, option, output };
    });
    const created: QuantizeJob[] = [];
    for (const { type, option, output } of chosen) {
      const job: QuantizeJob = {
        jobId: newId(),
        modelId,
        sourceName: path.basename(sourcePath),
        type,
        fileName: option.fileName,
        state: "queued",
        fraction: 0,
        bytesWritten: 0,
        bytesExpected: option.predictedBytes,
        resultModelId: null,
        error: null,
      };
      const running: RunningJob = { job, input: sourcePath, output, engine: null, cancelled: false };
      this.jobs.push(running);
      created.push({ ...job });
      this.options.emit({ type: "lab.quantize", job: { ...job } });
      this.queue = this.queue.then(() => this.runJob(running));
    }
    return created;
  }

  listJobs(): QuantizeJob[] {
    return this.jobs.map((running) => ({ ...running.job }));
  }

  async cancelJob(jobId: string): Promise<void> {
    const running = this.jobs.find((candidate) => candidate.job.jobId === jobId);
    if (!running) throw new QuantaError("not_found", "There is no such quantization job.");
    if (running.job.state !== "queued" && running.job.state !== "running") return;
    running.cancelled = true;
    running.engine?.stop(new QuantaError("invalid_request", "Cancelled."));
    if (running.job.state === "queued") this.update(running, { state: "cancelled" });
  }

  /**
   * Quantizes one file in an engine process of its own (the CLI's path, and each job's).
   * A cancelled or failed run leaves no .part file behind.
   */
  async quantizeFile(
    input: string,
    output: string,
    type: string,
    onProgress: (progress: LabEngineProgress) => void,
    onEngine: (engine: LabEngine) => void = () => undefined,
  ): Promise<{ bytes: number }> {
    const engine = await this.engine(onProgress);
    onEngine(engine);
    try {
      return await engine.api.labQuantize({
        input,
        output,
        type,
        threads: this.options.quantizeThreads ?? Math.max(1, os.availableParallelism()),
      });
    } finally {
      engine.stop();
      // A killed quantizer cannot clean up after itself.
      await fs.rm(`${output}.part`, { force: true });
    }
  }

  /** Same words as the engine's quantizer, without starting an engine for them. */
  private refuseType(type: string): never {
    if (Object.hasOwn(IMATRIX_TYPES, type)) {
      throw new QuantaError("invalid_request", `${type} needs an importance matrix, which Quanta does not make yet. Choose Q2_K or a larger type.`);
    }
    throw new QuantaError("invalid_request", `"${type}" is not a type Quanta can quantize to. Choose one of ${LAB_TARGET_TYPES.join(", ")}.`);
  }

  private async runJob(running: RunningJob): Promise<void> {
    if (running.cancelled) return;
    this.update(running, { state: "running" });
    try {
      const result = await this.quantizeFile(
        running.input,
        running.output,
        running.job.type,
        (progress) =>
          this.update(running, {
            fraction: progress.fraction,
            bytesWritten: progress.bytesWritten ?? running.job.bytesWritten,
            bytesExpected: progress.bytesExpected ?? running.job.bytesExpected,
          }),
        (engine) => {
          running.engine = engine;
          if (running.cancelled) engine.stop(new QuantaError("invalid_request", "Cancelled."));
        },
      );
      await this.options.onVariantWritten?.().catch(() => undefined);
      this.update(running, { state: "done", fraction: 1, bytesWritten: result.bytes, resultModelId: modelIdFor(running.output) });
    } catch (error) {
      if (running.cancelled) this.update(running, { state: "cancelled" });
      else this.update(running, { state: "failed", error: toWireError(error, "internal") });
    } finally {
      running.engine = null;
    }
  }

  private update(running: RunningJob, change: Partial<QuantizeJob>): void {
    Object.assign(running.job, change);
    this.options.emit({ type: "lab.quantize", job: { ...running.job } });
  }

  // ---- Comparing variants ---------------------------------------------------------------

  listTexts(): Promise<EvalText[]> {
    return this.texts.list();
  }

  listRuns(): Promise<LabRunSummary[]> {
    return this.runs.list();
  }

  /** Checks the variants and starts the run; resolves with its id at once, and `done` when it ends. */
  async startComparison(input: ComparisonInput): Promise<{ runId: string; done: Promise<LabRun> }> {
    if (this.activeRun) throw new QuantaError("busy", "A comparison is already running. Wait for it, or cancel it.");
    const variants = await Promise.all(input.files.map((file) => readVariant(file.path, file.modelId)));
    const reference = checkVariantsOfOneModel(variants);
    const largest = Math.max(...variants.map((variant) => variant.sizeBytes));
    const chatBytes = this.options.chatModelBytes?.() ?? 0;
    if (chatBytes > 0 && chatBytes + largest > os.totalmem() * 0.8) {
      throw new QuantaError("busy", "The chat's model and the largest variant do not fit in memory together. Unload the chat's model first.");
    }
    const ordered = [reference, ...variants.filter((variant) => variant !== reference)];
    const runId = newId();
    const active = { id: runId, engine: null as LabEngine | null, cancelled: false };
    this.activeRun = active;
    const run: LabRun = {
      id: runId,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      status: "running",
      modelName: reference.description.name,
      architecture: reference.description.architecture ?? "unknown",
      textId: input.text.id,
      textTitle: input.text.title,
      contextSize: input.contextSize,
      variants: [],
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(), memoryBytes: os.totalmem(), gpu: null },
      error: null,
    };
    const done = this.runComparison(run, ordered, input, active).finally(() => {
      if (this.activeRun === active) this.activeRun = null;
    });
    return { runId, done };
  }

  async cancelComparison(runId: string): Promise<void> {
    if (this.activeRun?.id !== runId) return;
    this.activeRun.cancelled = true;
    this.activeRun.engine?.stop(new QuantaError("invalid_request", "Cancelled."));
  }

  /**
   * One prompt through each variant (reference first, one loaded at a time, in a lab engine
   * of its own): "lab.stream" events as text comes, "lab.sideBySide" at the start and end.
   */
  async startSideBySide(
    files: Array<{ path: string; modelId: string | null }>,
    prompt: string,
    maxTokens: number,
  ): Promise<{ id: string; done: Promise<SideBySide> }> {
    const variants = await Promise.all(files.map((file) => readVariant(file.path, file.modelId)));
    const reference = checkVariantsOfOneModel(variants);
    const ordered = [reference, ...variants.filter((variant) => variant !== reference)];
    const result: SideBySide = {
      id: newId(),
      prompt,
      maxTokens,
      status: "running",
      columns: ordered.map((variant) => ({
        modelId: variant.modelId,
        fileName: path.basename(variant.path),
        fileType: variant.description.fileType,
        isReference: variant === reference,
        pieces: [],
        divergesAt: null,
        referenceProbabilities: [],
        error: null,
      })),
      error: null,
    };
    this.options.emit({ type: "lab.sideBySide", result: structuredClone(result) });
    const done = (async (): Promise<SideBySide> => {
      let column = 0;
      try {
        const engine = await this.engine(
          () => undefined,
          (text) => this.options.emit({ type: "lab.stream", id: result.id, column, text }),
        );
        try {
          let referenceTokens: number[] | null = null;
          for (const [index, variant] of ordered.entries()) {
            column = index;
            const stat = statSync(variant.path);
            const remembered = await this.options.threadMemory
              .recall(modelFileKey(stat.size, stat.mtimeMs, path.basename(variant.path)))
              .catch(() => null);
            const target = result.columns[index];
            if (!target) continue;
            try {
              const continuation: LabContinuation = await engine.api.labContinue({
                path: variant.path,
                prompt,
                maxTokens,
                threads: remembered?.chosen ?? null,
                referenceTokens,
              });
              target.pieces = continuation.pieces;
              target.referenceProbabilities = continuation.referenceProbabilities;
              if (referenceTokens === null) referenceTokens = continuation.tokens;
              else target.divergesAt = divergence(referenceTokens, continuation.tokens);
            } catch (error) {
              if (index === 0) throw error;
              target.error = toWireError(error, "generation_failed");
            }
          }
          result.status = "complete";
        } finally {
          engine.stop();
        }
      } catch (error) {
        result.status = "failed";
        result.error = toWireError(error, "generation_failed");
      }
      this.options.emit({ type: "lab.sideBySide", result: structuredClone(result) });
      return result;
    })();
    return { id: result.id, done };
  }

  private async runComparison(
    run: LabRun,
    variants: VariantFile[],
    input: ComparisonInput,
    active: { engine: LabEngine | null; cancelled: boolean },
  ): Promise<LabRun> {
    await fs.mkdir(this.tempDir, { recursive: true });
    const referenceFile = path.join(this.tempDir, `${run.id}.ref`);
    let index = 0;
    let phase: LabPhase = "loading";
    const progress = (update: LabEngineProgress): void => {
      phase = update.phase;
      const [from, to] = PHASE_SPAN[update.phase];
      const within = from + (to - from) * update.fraction;
      this.options.emit({
        type: "lab.progress",
        progress: {
          runId: run.id,
          variant: index,
          variants: variants.length,
          variantName: path.basename(variants[index]?.path ?? ""),
          phase,
          fraction: Math.min(1, (index + within) / variants.length),
        },
      });
    };
    try {
      const engine = await this.engine(progress);
      active.engine = engine;
      if (active.cancelled) engine.stop();
      try {
        let referencePerplexity = 0;
        for (const [position, variant] of variants.entries()) {
          index = position;
          progress({ phase: "loading", fraction: 0 });
          const stat = statSync(variant.path);
          const key = modelFileKey(stat.size, stat.mtimeMs, path.basename(variant.path));
          const remembered = await this.options.threadMemory.recall(key).catch(() => null);
          const measured: LabMeasurement = await engine.api
            .labMeasure({
              path: variant.path,
              vocabSize: variant.description.vocabSize ?? 0,
              contextSize: input.contextSize,
              threads: remembered?.chosen ?? null,
              text: input.text.text,
              role: position === 0 ? "reference" : "compare",
              referenceFile,
              promptTokens: PROMPT_TOKENS,
              generateTokens: GENERATE_TOKENS,
            })
            .catch((error: unknown) => {
              // Say which file it was: the engine's message speaks of "this model".
              const wire = toWireError(error, "internal");
              throw active.cancelled ? error : new QuantaError(wire.code, `${path.basename(variant.path)}: ${wire.message}`);
            });
          if (measured.calibration) await this.options.threadMemory.remember(key, measured.calibration).catch(() => undefined);
          if (position === 0) referencePerplexity = measured.quality.perplexity;
          run.machine.gpu ??= measured.gpu;
          run.variants.push(variantResult(variant, measured, position === 0, referencePerplexity));
        }
        run.status = "complete";
      } finally {
        engine.stop();
      }
    } catch (error) {
      run.status = active.cancelled ? "cancelled" : "failed";
      run.error = active.cancelled ? null : toWireError(error, "internal");
    } finally {
      await fs.rm(referenceFile, { force: true });
    }
    run.finishedAt = new Date().toISOString();
    try {
      await this.runs.save(run);
    } catch (error) {
      run.error ??= toWireError(error, "storage_failed");
    }
    this.options.emit({ type: "lab.run", run: structuredClone(run) });
    return run;
  }
}

/** Index of the first token where `tokens` leaves `reference`; null when it never does. */
export function divergence(reference: readonly number[], tokens: readonly number[]): number | null {
  const length = Math.max(reference.length, tokens.length);
  for (let index = 0; index < length; index++) if (reference[index] !== tokens[index]) return index;
  return null;
}

function variantResult(variant: VariantFile, measured: LabMeasurement, isReference: boolean, referencePerplexity: number): QuantVariantResult {
  const { description } = variant;
  return {
    modelId: variant.modelId,
    name: path.basename(variant.path).replace(/\.gguf$/i, ""),
    fileName: path.basename(variant.path),
    fileType: description.fileType,
    sizeBytes: variant.sizeBytes,
    parameterCount: description.parameterCount,
    bitsPerWeight: description.bitsPerWeight,
    isReference,
    loadMs: measured.loadMs,
    ramBytes: measured.ramBytes,
    vramBytes: measured.vramBytes,
    threads: measured.threads,
    promptTokens: measured.speed.promptTokens,
    promptTokensPerSecond: measured.speed.promptTokensPerSecond,
    generatedTokens: measured.speed.generatedTokens,
    generationTokensPerSecond: measured.speed.generationTokensPerSecond,
    perplexity: measured.quality.perplexity,
    perplexityRatio: referencePerplexity > 0 ? measured.quality.perplexity / referencePerplexity : 1,
    kld: measured.quality.kld,
    sameTopRate: measured.quality.sameTopRate,
    scoredTokens: measured.quality.scoredTokens,
  };
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
