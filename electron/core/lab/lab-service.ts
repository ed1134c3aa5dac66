// The quantization lab in the core: making variants (QuantizeJobs), comparing them
// (Comparisons), one prompt side by side (SideBySideRuns), the evaluation texts and the
// saved runs, over engine processes of the lab's own (LabEngines). The core's contract
// (lab-api.ts) and the CLI use it.

import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import type { EvalText, LabRun, LabRunSummary, QuantizeJob, QuantizePlan, SideBySide } from "../../contract/types.js";
import type { LabEngineProgress } from "../../engine/lab-protocol.js";
import { Comparisons, type ComparisonInput } from "./comparison-run.js";
import { EvalTexts } from "./eval-texts.js";
import type { LabEngine } from "./lab-engine.js";
import { LabEngines } from "./lab-engines.js";
import type { LabServiceOptions } from "./lab-options.js";
import { QuantizeJobs } from "./quantize-jobs.js";
import { DEFAULT_REFERENCE_CACHE_BYTES, ReferenceCache } from "./reference-cache.js";
import { LabRunStore } from "./run-store.js";
import { SideBySideRuns } from "./side-by-side-run.js";
import { TextTokenCounts } from "./text-tokens.js";
import { readVariant } from "./variant-check.js";

export { GENERATE_TOKENS, PROMPT_TOKENS, type ComparisonInput } from "./comparison-run.js";
export { LAB_TARGET_TYPES, variantFileName } from "./quantize-jobs.js";
export { divergence } from "./side-by-side-run.js";
export type { LabServiceOptions } from "./lab-options.js";

export class LabService {
  readonly texts: EvalTexts;
  readonly runs: LabRunStore;
  private readonly engines: LabEngines;
  private readonly jobs: QuantizeJobs;
  private readonly comparisons: Comparisons;
  private readonly sideBySide: SideBySideRuns;
  /** The reference distributions kept between comparisons. */
  readonly referenceCache: ReferenceCache;
  private readonly tokenCounts = new TextTokenCounts();

  constructor(options: LabServiceOptions) {
    const lab = path.join(options.home, "lab");
    this.texts = new EvalTexts(path.join(lab, "texts"));
    this.runs = new LabRunStore(path.join(lab, "runs"));
    this.engines = new LabEngines(options.spawnEngine);
    this.jobs = new QuantizeJobs(options, this.engines);
    this.referenceCache = new ReferenceCache(
      path.join(lab, "reference-cache"),
      options.referenceCacheBytes ?? DEFAULT_REFERENCE_CACHE_BYTES,
    );
    this.comparisons = new Comparisons(options, this.engines, this.runs, path.join(lab, "tmp"), this.referenceCache, this.tokenCounts);
    this.sideBySide = new SideBySideRuns(options, this.engines);
  }

  /** Ends every lab engine (jobs and runs then fail or are saved as they stand). */
  dispose(): void {
    this.engines.stopAll();
  }

  /** The plan for a source, with where its variants can go (variant-destination.ts). */
  plan(...args: Parameters<QuantizeJobs["plan"]>): Promise<QuantizePlan> {
    return this.jobs.plan(...args);
  }

  enqueueQuantize(...args: Parameters<QuantizeJobs["enqueueQuantize"]>): Promise<QuantizeJob[]> {
    return this.jobs.enqueueQuantize(...args);
  }

  listJobs(): QuantizeJob[] {
    return this.jobs.listJobs();
  }

  cancelJob(jobId: string): Promise<void> {
    return this.jobs.cancelJob(jobId);
  }

  /** Quantizes one file in a lab engine of its own (the CLI's path); no .part is left behind. */
  quantizeFile(
    input: string,
    output: string,
    type: string,
    onProgress: (progress: LabEngineProgress) => void,
    onEngine?: (engine: LabEngine) => void,
  ): Promise<{ bytes: number }> {
    return this.jobs.quantizeFile(input, output, type, onProgress, onEngine);
  }

  listTexts(): Promise<EvalText[]> {
    return this.texts.list();
  }

  /**
   * The text's length in tokens by the tokenizer of the reference among `files` (most bits per
   * weight, as a comparison chooses it), in a lab engine of its own unless already counted.
   */
  async countTextTokens(
    files: ReadonlyArray<{ path: string; modelId: string | null }>,
    text: string,
  ): Promise<{ tokens: number; file: string }> {
    const variants = await Promise.all(files.map((file) => readVariant(file.path, file.modelId)));
    const reference = [...variants].sort((a, b) => (b.description.bitsPerWeight ?? 0) - (a.description.bitsPerWeight ?? 0))[0];
    if (!reference) throw new QuantaError("invalid_request", "Choose a model to count the text's tokens with.");
    const tokens = await this.tokenCounts.count(reference.path, text, () => this.engines.start(() => undefined));
    return { tokens, file: reference.path };
  }

  listRuns(): Promise<LabRunSummary[]> {
    return this.runs.list();
  }

  /** Checks the variants and starts the run; resolves with its id at once, and `done` when it ends. */
  /** Deletes the cached reference distributions; refused while a comparison may be using one. */
  async clearReferenceCache(): Promise<void> {
    if (this.comparisons.running)
      throw new QuantaError("busy", "A comparison is running. Wait for it, or cancel it, before deleting the cache.");
    await this.referenceCache.clear();
  }

  startComparison(input: ComparisonInput): Promise<{ runId: string; done: Promise<LabRun> }> {
    return this.comparisons.start(input);
  }

  cancelComparison(runId: string): Promise<void> {
    return this.comparisons.cancel(runId);
  }

  startSideBySide(
    files: Array<{ path: string; modelId: string | null }>,
    prompt: string,
    maxTokens: number,
  ): Promise<{ id: string; done: Promise<SideBySide> }> {
    return this.sideBySide.start(files, prompt, maxTokens);
  }
}
