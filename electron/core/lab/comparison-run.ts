// Comparison runs over N variants of one model: the reference (most bits per weight) first, then falling bits,
// its distribution kept on disk, one variant loaded at a time in one lab engine; progress
// events as it goes. A text too short for the context is refused before the run starts. The
// run is saved when it ends with what it measured (complete, or failed/cancelled with the
// variants done before); a run that measured nothing is reported, never saved.

import { promises as fs, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type { LabPhase, LabRun, QuantVariantResult } from "../../contract/types.js";
import type { LabEngineProgress, LabMeasurement } from "../../engine/lab-protocol.js";
import { newId } from "../../common/ids.js";
import { modelFileKey, withBatch } from "../engine-client/thread-memory.js";
import type { LabEngine } from "./lab-engine.js";
import type { LabEngines } from "./lab-engines.js";
import type { LabServiceOptions } from "./lab-options.js";
import { ReferenceCache, type ReferenceRecord } from "./reference-cache.js";
import type { LabRunStore } from "./run-store.js";
import { refuseShortText, type TextTokenCounts } from "./text-tokens.js";
import { checkVariantsOfOneModel, readVariant, type VariantFile } from "./variant-check.js";

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

export interface ComparisonInput {
  files: Array<{ path: string; modelId: string | null }>;
  text: { id: string; title: string; text: string };
  contextSize: number;
  /** Skip the speed tests (pp and tg): the speeds are then null. */
  qualityOnly?: boolean;
}

export class Comparisons {
  private activeRun: { id: string; engine: LabEngine | null; cancelled: boolean } | null = null;

  constructor(
    private readonly options: LabServiceOptions,
    private readonly engines: LabEngines,
    private readonly runs: LabRunStore,
    private readonly tempDir: string,
    private readonly cache: ReferenceCache,
    private readonly tokenCounts: TextTokenCounts,
  ) {}

  /** Whether a comparison is under way. */
  get running(): boolean {
    return this.activeRun !== null;
  }

  private engine(onProgress: (progress: LabEngineProgress) => void): Promise<LabEngine> {
    return this.engines.start(onProgress);
  }

  /** Checks the variants and starts the run; resolves with its id at once, and `done` when it ends. */
  async start(input: ComparisonInput): Promise<{ runId: string; done: Promise<LabRun> }> {
    if (this.activeRun) throw new QuantaError("busy", "A comparison is already running. Wait for it, or cancel it.");
    const variants = await Promise.all(input.files.map((file) => readVariant(file.path, file.modelId)));
    const reference = checkVariantsOfOneModel(variants);
    const largest = Math.max(...variants.map((variant) => variant.sizeBytes));
    const chatBytes = this.options.chatModelBytes?.() ?? 0;
    if (chatBytes > 0 && chatBytes + largest > os.totalmem() * 0.8) {
      throw new QuantaError(
        "busy",
        "The chat's model and the largest variant do not fit in memory together. Unload the chat's model first.",
      );
    }
    // Reference first, then falling bits per weight: the order of every table and report.
    const ordered = [
      reference,
      ...variants
        .filter((variant) => variant !== reference)
        .sort((a, b) => (b.description.bitsPerWeight ?? 0) - (a.description.bitsPerWeight ?? 0)),
    ];
    const runId = newId();
    const active = { id: runId, engine: null as LabEngine | null, cancelled: false };
    this.activeRun = active;
    // The engine starts here, so the text is counted by the reference's own tokenizer and a text
    // too short is refused before anything runs (nothing measured, nothing saved); the run then uses it.
    let relay: (progress: LabEngineProgress) => void = () => undefined;
    let engine: LabEngine | null = null;
    try {
      engine = await this.engine((progress) => relay(progress));
      refuseShortText(await this.tokenCounts.count(reference.path, input.text.text, engine), input.contextSize);
    } catch (error) {
      engine?.stop();
      if (this.activeRun === active) this.activeRun = null;
      throw error;
    }
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
      ...(input.qualityOnly ? { qualityOnly: true } : {}),
    };
    const started = engine;
    const withProgress = (progress: (update: LabEngineProgress) => void): LabEngine => {
      relay = progress;
      return started;
    };
    const done = this.runComparison(run, ordered, input, active, withProgress).finally(() => {
      if (this.activeRun === active) this.activeRun = null;
    });
    return { runId, done };
  }

  cancel(runId: string): Promise<void> {
    if (this.activeRun?.id !== runId) return Promise.resolve();
    this.activeRun.cancelled = true;
    this.activeRun.engine?.stop(new QuantaError("invalid_request", "Cancelled."));
    return Promise.resolve();
  }

  private async runComparison(
    run: LabRun,
    variants: VariantFile[],
    input: ComparisonInput,
    active: { engine: LabEngine | null; cancelled: boolean },
    /** The engine started for this run, its progress sent to `progress` from now on. */
    engineWith: (progress: (update: LabEngineProgress) => void) => LabEngine,
  ): Promise<LabRun> {
    await fs.mkdir(this.tempDir, { recursive: true });
    // The reference's distribution: from the cache when it holds this (file, text, context),
    // else written into the cache, else (a cache folder that cannot be written) to a temporary file.
    const referenceStat = statSync(variants[0]?.path ?? "");
    const referenceKey = ReferenceCache.key({
      fileKey: modelFileKey(referenceStat.size, referenceStat.mtimeMs, path.basename(variants[0]?.path ?? "")),
      text: input.text.text,
      contextSize: input.contextSize,
    });
    const cached = await this.cache.take(referenceKey).catch(() => null);
    const slot = cached ? null : await this.cache.slot(referenceKey);
    const temporary = path.join(this.tempDir, `${run.id}.ref`);
    const referenceFile = cached?.file ?? slot?.file ?? temporary;
    run.referenceCache = cached
      ? { status: "reused", reason: null }
      : { status: "uncached", reason: slot && !slot.cached ? slot.reason : null };
    let referenceComplete = cached !== null;
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
    let current = "";
    try {
      const engine = engineWith(progress);
      active.engine = engine;
      if (active.cancelled) engine.stop();
      try {
        let referencePerplexity = 0;
        for (const [position, variant] of variants.entries()) {
          index = position;
          current = path.basename(variant.path);
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
              batchThreads: remembered?.batch?.chosen ?? null,
              // While the chat holds a model, its replies keep a core: batches take the others.
              ...((this.options.chatModelBytes?.() ?? 0) > 0 ? { batchThreadsCap: Math.max(1, os.availableParallelism() - 1) } : {}),
              text: input.text.text,
              // A cached reference is measured for speed only: its distribution is on disk already.
              role: position === 0 ? (cached ? "speed-only" : "reference") : "compare",
              referenceFile,
              promptTokens: PROMPT_TOKENS,
              generateTokens: GENERATE_TOKENS,
              ...(input.qualityOnly ? { speed: false } : {}),
            })
            .catch((error: unknown) => {
              // Say which file it was: the engine's message speaks of "this model".
              const wire = toWireError(error, "internal");
              throw active.cancelled ? error : new QuantaError(wire.code, `${path.basename(variant.path)}: ${wire.message}`);
            });
          const calibration = withBatch(measured.calibration ?? remembered, measured.batchCalibration);
          if (calibration && (measured.calibration || measured.batchCalibration)) {
            await this.options.threadMemory.remember(key, calibration).catch(() => undefined);
          }
          const quality = measured.quality ?? (cached ? qualityOf(cached.record) : null);
          if (!quality) throw new QuantaError("internal", `${path.basename(variant.path)} was measured without its quality.`);
          if (position === 0) {
            referencePerplexity = quality.perplexity;
            referenceComplete = true;
            if (slot?.cached) {
              const notKept = await this.cache.commit(referenceKey, {
                perplexity: quality.perplexity,
                tokens: quality.tokens,
                chunks: quality.chunks,
                scoredTokens: quality.scoredTokens,
              });
              run.referenceCache = notKept === null ? { status: "stored", reason: null } : { status: "uncached", reason: notKept };
            }
          }
          run.machine.gpu ??= measured.gpu;
          run.machine.engineBuild ??= measured.build;
          run.variants.push(variantResult(variant, { ...measured, quality }, position === 0, referencePerplexity));
        }
        run.status = "complete";
      } finally {
        engine.stop();
      }
    } catch (error) {
      run.status = active.cancelled ? "cancelled" : "failed";
      run.error = active.cancelled ? null : toWireError(error, "internal");
      // Which file it stopped at, for the renderer to say in the user's language.
      if (!active.cancelled && current !== "") run.failedFile = current;
    } finally {
      await fs.rm(temporary, { force: true });
      await fs.rm(`${temporary}.part`, { force: true });
      // A stopped reference leaves nothing in the cache that could pass for complete.
      if (slot?.cached && !referenceComplete) await this.cache.remove(referenceKey);
    }
    run.finishedAt = new Date().toISOString();
    // A run that measured nothing has nothing to show: it is reported (the event, `done`), never saved.
    if (run.variants.length > 0) {
      try {
        await this.runs.save(run);
      } catch (error) {
        run.error ??= toWireError(error, "storage_failed");
      }
    }
    this.options.emit({ type: "lab.run", run: structuredClone(run) });
    return run;
  }
}

/** The reference's quality as the cache recorded it. */
function qualityOf(record: ReferenceRecord): NonNullable<LabMeasurement["quality"]> {
  return {
    tokens: record.tokens,
    chunks: record.chunks,
    scoredTokens: record.scoredTokens,
    perplexity: record.perplexity,
    kld: null,
    sameTopRate: null,
  };
}

function variantResult(
  variant: VariantFile,
  measured: LabMeasurement & { quality: NonNullable<LabMeasurement["quality"]> },
  isReference: boolean,
  referencePerplexity: number,
): QuantVariantResult {
  const { description } = variant;
  return {
    modelId: variant.modelId,
    name: path.basename(variant.path).replace(/\.gguf$/i, ""),
    fileName: path.basename(variant.path),
    fileType: description.fileType,
    sizeBytes: variant.sizeBytes,
    parameterCount: description.parameterCount,
    // checkVariantsOfOneModel refused variants with a tensor of unknown type (unknown size).
    bitsPerWeight: description.bitsPerWeight ?? Number.NaN,
    isReference,
    loadMs: measured.loadMs,
    ramBytes: measured.footprint.ramBytes,
    vramBytes: measured.footprint.vramBytes,
    footprint: measured.footprint,
    threads: measured.threads,
    batchThreads: measured.batchThreads,
    promptTokens: measured.speed.promptTokens,
    promptTokensPerSecond: measured.speed.promptTokensPerSecond,
    generatedTokens: measured.speed.generatedTokens,
    generationTokensPerSecond: measured.speed.generationTokensPerSecond,
    perplexity: measured.quality.perplexity,
    perplexityRatio: referencePerplexity > 0 ? measured.quality.perplexity / referencePerplexity : 1,
    kld: measured.quality.kld,
    sameTopRate: measured.quality.sameTopRate,
    scoredTokens: measured.quality.scoredTokens,
    recipe: variant.recipe,
  };
}
