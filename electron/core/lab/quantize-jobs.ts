// Making variants: the plan (types, predicted sizes, and where the files will go), and
// quantize jobs, queued and run one at a time, each in a lab engine of its own, cancelled by
// ending that engine. Where a variant may be written is variant-destination.ts's rule.

import { promises as fs, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type { QuantizeDestination, QuantizeJob, QuantizePlan } from "../../contract/types.js";
import type { LabEngineProgress } from "../../engine/lab-protocol.js";
// Pure tables and the size prediction only: the quantizer's native code loads in the engine.
import {
  estimateQuantizedBytes,
  IMATRIX_TYPES,
  parseQuantRecipe,
  QUANT_TYPE_NAMES,
  QUANT_TYPES,
  RECIPE_KEEP_TYPES,
  recipesOver,
  SOURCE_TYPES,
  type QuantType,
} from "../../common-node/gguf/quant-types.js";
import { newId } from "../../common/ids.js";
import { describeGguf, readGgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { modelIdFor } from "../library/model-library.js";
import {
  defaultDestinationRules,
  safeSegment,
  variantDestinations,
  type DestinationRules,
  type VariantSource,
} from "./variant-destination.js";
import type { LabEngine } from "./lab-engine.js";
import type { LabEngines } from "./lab-engines.js";
import type { LabServiceOptions } from "./lab-options.js";

/** Types offered as targets: the quantized ones (float targets make no smaller variant). */
export const LAB_TARGET_TYPES: readonly QuantType[] = QUANT_TYPE_NAMES.filter((type) => !["F32", "F16", "BF16"].includes(type));

/**
 * `name-F32.gguf` → `name-Q4_K_M.gguf`: a trailing type in the source's name is replaced. A
 * recipe keeps its name: `name-Q4_K_M+Q8_0.gguf`.
 */
export function variantFileName(sourceFile: string, type: string): string {
  const base = safeSegment(path.basename(sourceFile).replace(/\.gguf$/i, ""));
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

export class QuantizeJobs {
  private readonly jobs: RunningJob[] = [];
  private queue: Promise<void> = Promise.resolve();
  /** llama.cpp's dry-run sizes per source file (path, size and time), so jobs count against the plan shown. */
  private readonly dryRuns = new Map<string, Record<string, number | null>>();

  constructor(
    private readonly options: LabServiceOptions,
    private readonly engines: LabEngines,
    private readonly rules: DestinationRules = defaultDestinationRules(options.home),
  ) {}

  private engine(onProgress: (progress: LabEngineProgress) => void): Promise<LabEngine> {
    return this.engines.start(onProgress);
  }

  /**
   * The types the source can become, each with its predicted size: from llama.cpp's dry run
   * when `dryRun` (an engine process is started for it; a second or so), else, or where the
   * dry run fails, from the type's typical bits per weight.
   */
  async plan(modelId: string, variantSource: VariantSource, dryRun = false): Promise<QuantizePlan> {
    const sourcePath = variantSource.path;
    const header = await readGgufHeader(sourcePath);
    const source = describeGguf(header, sourcePath);
    const refusal = SOURCE_TYPES.has(source.fileType)
      ? null
      : `${path.basename(sourcePath)} is already quantized (${source.fileType}). Quantize from an F32, F16, BF16 or Q8_0 file, so one quantization's error does not pile onto another's.`;
    const baseTypes = LAB_TARGET_TYPES.filter((type) => type !== source.fileType);
    // Plain types, then the mixed precision recipes over them ("Q4_K_M+Q8_0"), each its own option.
    const recipes = recipesOver(baseTypes);
    const types: string[] = [...baseTypes, ...recipes.map((recipe) => recipe.name)];
    const stat = await fs.stat(sourcePath).catch(() => null);
    const dryRunKey = `${sourcePath}\0${stat?.size ?? ""}\0${stat?.mtimeMs ?? ""}`;
    let dryRunBytes: Record<string, number | null> = this.dryRuns.get(dryRunKey) ?? {};
    if (dryRun && refusal === null && !this.dryRuns.has(dryRunKey)) {
      try {
        const engine = await this.engine(() => undefined);
        try {
          dryRunBytes = await engine.api.labPredict({ input: sourcePath, types: [...types] });
          this.dryRuns.set(dryRunKey, dryRunBytes);
        } finally {
          engine.stop();
        }
      } catch {
        // keep the estimates
      }
    }
    // llama.cpp's total is tensor data only: add the header and each tensor's alignment padding (half on average).
    const overhead = header.dataOffset + Math.round((header.tensors.length * header.alignment) / 2);
    const { destinations, besideRefusal } = await variantDestinations(variantSource, this.rules);
    const withExisting: QuantizeDestination[] = destinations.map((destination) => ({
      ...destination,
      existing: types.filter((type) => exists(path.join(destination.folder, variantFileName(variantSource.fileName, type)))),
    }));
    return {
      modelId,
      sourceType: source.fileType,
      refusal,
      destinations: withExisting,
      besideRefusal,
      options: types.map((type) => {
        const fileName = variantFileName(variantSource.fileName, type);
        const fromDryRun = dryRunBytes[type];
        const recipe = parseQuantRecipe(type);
        const base = (recipe?.base ?? type) as QuantType;
        return {
          type,
          bitsPerWeight: QUANT_TYPES[base].bitsPerWeight,
          predictedBytes: typeof fromDryRun === "number" ? fromDryRun + overhead : estimateQuantizedBytes(header, base, recipe),
          predictedBy: typeof fromDryRun === "number" ? "llama.cpp" : "estimate",
          fileName,
          exists: withExisting[0]?.existing.includes(type) ?? false,
          recipe: recipe ? { base: recipe.base, keep: recipe.keep } : null,
        };
      }),
    };
  }

  /** Queues one job per type; the variants go to the destination asked for (one the plan offers), else the plan's default. */
  async enqueueQuantize(
    modelId: string,
    variantSource: VariantSource,
    types: readonly string[],
    destinationKind?: QuantizeDestination["kind"],
  ): Promise<QuantizeJob[]> {
    const sourcePath = variantSource.path;
    const plan = await this.plan(modelId, variantSource);
    if (plan.refusal) throw new QuantaError("invalid_request", plan.refusal);
    const destination =
      destinationKind === undefined ? plan.destinations[0] : plan.destinations.find((candidate) => candidate.kind === destinationKind);
    if (!destination) {
      throw new QuantaError(
        "invalid_request",
        plan.besideRefusal === "other_app"
          ? "The source lies in another app's folder, which Quanta never writes to. Its variants go to Quanta's models folder."
          : "Variants of this source cannot be written beside it. They go to Quanta's models folder.",
      );
    }
    // Every type is checked before any job is queued: a refusal queues nothing.
    const chosen = [...new Set(types)].map((type) => {
      const option = plan.options.find((candidate) => candidate.type === type);
      if (!option) {
        const recipe = parseQuantRecipe(type);
        if (recipe) {
          throw new QuantaError(
            "invalid_request",
            `${recipe.name} buys nothing here: keep the output and embeddings at a type with more bits than the base (${Object.keys(RECIPE_KEEP_TYPES).join(" or ")}), over a smaller base.`,
          );
        }
        if (!Object.hasOwn(QUANT_TYPES, type)) this.refuseType(type);
        throw new QuantaError("invalid_request", `${type} is the source's own type; choose a smaller one.`);
      }
      if (destination.existing.includes(type)) {
        throw new QuantaError(
          "invalid_request",
          `${option.fileName} already exists in ${destination.folder}. Compare it, or remove it first.`,
        );
      }
      const output = path.join(destination.folder, option.fileName);
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
        folder: destination.folder,
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

  cancelJob(jobId: string): Promise<void> {
    const running = this.jobs.find((candidate) => candidate.job.jobId === jobId);
    if (!running) return Promise.reject(new QuantaError("not_found", "There is no such quantization job."));
    if (running.job.state !== "queued" && running.job.state !== "running") return Promise.resolve();
    running.cancelled = true;
    running.engine?.stop(new QuantaError("invalid_request", "Cancelled."));
    if (running.job.state === "queued") this.update(running, { state: "cancelled" });
    return Promise.resolve();
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
      throw new QuantaError(
        "invalid_request",
        `${type} needs an importance matrix, which Quanta does not make yet. Choose Q2_K or a larger type.`,
      );
    }
    throw new QuantaError(
      "invalid_request",
      `"${type}" is not a type Quanta can quantize to. Choose one of ${LAB_TARGET_TYPES.join(", ")}, or a recipe such as Q4_K_M+Q8_0 (output and embeddings kept at Q8_0 or F16).`,
    );
  }

  private async runJob(running: RunningJob): Promise<void> {
    if (running.cancelled) return;
    this.update(running, { state: "running" });
    try {
      await fs.mkdir(path.dirname(running.output), { recursive: true });
      const result = await this.quantizeFile(
        running.input,
        running.output,
        running.job.type,
        (progress) =>
          this.update(running, {
            fraction: progress.fraction,
            bytesWritten: progress.bytesWritten ?? running.job.bytesWritten,
            // The plan's figure throughout: the plan, the progress bar and the finished file agree.
            bytesExpected: running.job.bytesExpected,
          }),
        (engine) => {
          running.engine = engine;
          if (running.cancelled) engine.stop(new QuantaError("invalid_request", "Cancelled."));
        },
      );
      await this.options.onVariantWritten?.().catch(() => undefined);
      this.update(running, { state: "done", fraction: 1, bytesWritten: result.bytes, resultModelId: modelIdFor(running.output) });
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cancelJob() sets it while the engine runs, which the type checker's narrowing does not follow
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
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
