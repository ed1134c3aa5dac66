// Owns the Lab view's state: the quantize plan for the chosen source and its jobs, the
// evaluation texts, the comparison being run (its progress) and the run shown, the saved
// runs, and the user's quality budget. Talks to lib/api (the lab's methods and its
// "lab.quantize", "lab.progress" and "lab.run" events) and reports failures to notices.

import {
  api,
  onCoreEvent,
  type EvalText,
  type LAB_MAX_TEXT_CHARS,
  type TEXT_PART_MAX_CHARS,
  type LabRun,
  type LabRunProgress,
  type LabRunSummary,
  type ModelShape,
  type QuantizeDestination,
  type ReferenceCacheUsage,
  type QuantizeJob,
  type QuantizePlan,
  type SideBySide,
} from "../api/index.js";
import type { QualityMetric, SortKey } from "../utils/lab-analysis.js";
import { notices } from "./notices.svelte.js";

/** The longest evaluation text (the contract's LAB_MAX_TEXT_CHARS), said beside the button. */
export const MAX_TEXT_CHARS: typeof LAB_MAX_TEXT_CHARS = 2_000_000;
/** A file's characters are at least a third of its UTF-8 bytes: a larger file is refused unread. */
const MAX_TEXT_FILE_BYTES = 3 * MAX_TEXT_CHARS;
/** The contract's TEXT_PART_MAX_CHARS: a longer text goes in parts, each one message. */
const TEXT_PART_CHARS: typeof TEXT_PART_MAX_CHARS = 262_144;

/** Context sizes offered for a comparison (the contract's LAB_CONTEXT_SIZES). */
export const LAB_CONTEXTS = [64, 128, 256, 512, 1024, 2048, 4096] as const;

/** Sends a long text in parts, in order; returns the upload to name in the call that uses it. */
async function uploadText(text: string): Promise<string> {
  const { uploadId, partChars } = await api.startTextUpload({ chars: text.length });
  const size = Math.min(partChars, TEXT_PART_CHARS);
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + size, text.length);
    // A part never ends between the two halves of a surrogate pair (an emoji, a rare CJK character).
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    await api.appendTextUpload({ uploadId, text: text.slice(start, end) });
    start = end;
  }
  return uploadId;
}

class LabStore {
  sourceId = $state<string | null>(null);
  plan = $state.raw<QuantizePlan | null>(null);
  chosenTypes = $state.raw<string[]>(["Q8_0", "Q4_K_M"]);
  /** Where the variants go: one of the plan's destinations (null: the plan's default, its first). */
  destinationKind = $state<QuantizeDestination["kind"] | null>(null);
  destination = $derived(
    this.plan?.destinations.find((candidate) => candidate.kind === this.destinationKind) ?? this.plan?.destinations[0] ?? null,
  );
  jobs = $state.raw<QuantizeJob[]>([]);

  texts = $state.raw<EvalText[]>([]);
  textId = $state("mixed");
  contextSize = $state(512);
  chosenVariants = $state.raw<string[]>([]);
  /** Skip the speed tests (pp and tg): quality figures only. */
  qualityOnly = $state(false);
  /**
   * The chosen text's length by the reference's tokenizer (the chosen variant with most bits per
   * weight), for these variants and this text; null until counted (or when it cannot be).
   */
  textTokens = $state.raw<{ key: string; tokens: number; modelId: string } | null>(null);
  counting = $state(false);
  #countKey = "";

  runs = $state.raw<LabRunSummary[]>([]);
  /** The cached reference distributions (null until fetched). */
  referenceCache = $state.raw<ReferenceCacheUsage | null>(null);
  /** The run shown: the one just finished or reopened. */
  run = $state.raw<LabRun | null>(null);
  /** Saved runs chosen to be seen together, and those runs once fetched (in the order chosen). */
  chosenRuns = $state.raw<string[]>([]);
  comparedRuns = $state.raw<LabRun[]>([]);
  runningId = $state<string | null>(null);
  progress = $state.raw<LabRunProgress | null>(null);
  starting = $state(false);

  /** One prompt side by side: the latest result, and the text streamed so far per column. */
  prompt = $state("Once upon a time");
  promptTokens = $state(48);
  sideBySide = $state.raw<SideBySide | null>(null);
  streamed = $state.raw<string[]>([]);
  sideBySideRunning = $derived(this.sideBySide?.status === "running");

  metric = $state<QualityMetric>("kld");
  /** Mean KLD, or perplexity ratio − 1, that a recommended variant may not exceed. */
  budget = $state(0.05);
  sortKey = $state<SortKey>("sizeBytes");
  sortDescending = $state(true);

  constructor() {
    onCoreEvent((event) => {
      switch (event.type) {
        case "lab.quantize": {
          // A job keeps its place in the list; a new one joins at the end.
          const index = this.jobs.findIndex((job) => job.jobId === event.job.jobId);
          this.jobs = index < 0 ? [...this.jobs, event.job] : this.jobs.map((job, at) => (at === index ? event.job : job));
          if (event.job.state === "done" && this.sourceId) void this.choose(this.sourceId);
          break;
        }
        case "lab.progress":
          if (event.progress.runId === this.runningId) this.progress = event.progress;
          break;
        case "lab.sideBySide":
          if (this.sideBySide === null || event.result.id === this.sideBySide.id || this.#awaitingSideBySide) {
            this.#awaitingSideBySide = false;
            if (event.result.id !== this.sideBySide?.id) this.streamed = event.result.columns.map(() => "");
            this.sideBySide = event.result;
            if (event.result.error) notices.report(event.result.error);
          }
          break;
        case "lab.stream":
          if (event.id === this.sideBySide?.id) {
            this.streamed = this.streamed.map((text, index) => (index === event.column ? text + event.text : text));
          }
          break;
        case "lab.run":
          if (event.run.id === this.runningId) {
            this.runningId = null;
            this.progress = null;
            // A run that measured nothing is not saved and has nothing to show: only why it stopped.
            if (event.run.variants.length > 0) this.run = event.run;
            if (event.run.error) notices.report(event.run.error);
            else if (event.run.variants.length === 0 && event.run.status === "cancelled") notices.hint("lab.run.cancelledEmpty");
          }
          void this.refreshRuns();
          break;
        default:
          break;
      }
    });
  }

  /** Fetches everything afresh (on every (re)connect, and when the view opens). */
  async resync(): Promise<void> {
    try {
      const [texts, jobs] = await Promise.all([api.listEvalTexts(), api.listQuantizeJobs()]);
      this.texts = texts;
      this.jobs = jobs;
      await this.refreshRuns();
    } catch (error) {
      notices.report(error);
    }
  }

  async refreshRuns(): Promise<void> {
    [this.runs, this.referenceCache] = await Promise.all([api.listLabRuns(), api.getReferenceCache()]);
    // A run deleted elsewhere (another window, the CLI) is no longer chosen.
    const saved = new Set(this.runs.map((summary) => summary.id));
    this.chosenRuns = this.chosenRuns.filter((id) => saved.has(id));
  }

  async choose(modelId: string | null): Promise<void> {
    if (modelId !== this.sourceId) this.destinationKind = null;
    this.sourceId = modelId;
    this.plan = null;
    if (!modelId) return;
    try {
      const plan = await api.getQuantizePlan({ modelId });
      if (this.sourceId === modelId) this.plan = plan;
    } catch (error) {
      notices.report(error);
    }
  }

  /**
   * The planner's "this family": a library model's shape from its header (layers, width, heads,
   * KV heads); null, with the failure reported, where the header lacks them.
   */
  async shapeOfModel(modelId: string): Promise<ModelShape | null> {
    try {
      const inspection = await api.inspectModel({ modelId });
      const { layers, embeddingLength, headCount, parameterCount } = inspection;
      if (!layers || layers < 2 || !embeddingLength || !headCount || parameterCount <= 0) return null;
      return {
        parameters: parameterCount,
        // The inspection counts the output layer too (as GPU layers do); the KV cache and the
        // shape are per repeating block.
        layers: layers - 1,
        embedding: embeddingLength,
        heads: headCount,
        kvHeads: inspection.headCountKv ?? headCount,
        headDim: Math.round(embeddingLength / headCount),
        source: "header",
      };
    } catch (error) {
      notices.report(error);
      return null;
    }
  }

  toggleType(type: string, on: boolean): void {
    this.chosenTypes = on ? [...new Set([...this.chosenTypes, type])] : this.chosenTypes.filter((chosen) => chosen !== type);
  }

  /** A variant of this type is already in the chosen destination. */
  existsThere(type: string): boolean {
    return this.destination?.existing.includes(type) ?? false;
  }

  async quantize(): Promise<void> {
    const modelId = this.sourceId;
    const destination = this.destination;
    const available = new Set(this.plan?.options.filter((option) => !this.existsThere(option.type)).map((option) => option.type));
    const types = this.chosenTypes.filter((type) => available.has(type));
    if (!modelId || !destination || types.length === 0) return;
    try {
      await api.startQuantize({ modelId, types, destination: destination.kind });
    } catch (error) {
      notices.report(error);
    }
  }

  async cancelJob(jobId: string): Promise<void> {
    try {
      await api.cancelQuantize({ jobId });
    } catch (error) {
      notices.report(error);
    }
  }

  /** Chooses exactly these variants (a whole model family from the library). */
  chooseVariants(modelIds: readonly string[]): void {
    this.chosenVariants = [...modelIds];
  }

  toggleVariant(modelId: string, on: boolean): void {
    this.chosenVariants = on ? [...new Set([...this.chosenVariants, modelId])] : this.chosenVariants.filter((id) => id !== modelId);
  }

  /** True while a text file is read and sent. */
  addingText = $state(false);

  /**
   * Adds a text file of the user's. The limit is checked here before anything is sent (a
   * file too large is not even read); a long text goes in parts, since one WebSocket
   * message carries at most 4 MiB.
   */
  async addText(file: File): Promise<void> {
    if (file.size > MAX_TEXT_FILE_BYTES) {
      notices.hint("lab.compare.textTooLong");
      return;
    }
    this.addingText = true;
    try {
      const text = await file.text();
      if (text.length > MAX_TEXT_CHARS) {
        notices.hint("lab.compare.textTooLong");
        return;
      }
      const title = file.name.slice(0, 120) || "text";
      const added =
        text.length <= TEXT_PART_CHARS
          ? await api.addEvalText({ title, text })
          : await api.addEvalText({ title, uploadId: await uploadText(text) });
      this.texts = await api.listEvalTexts();
      this.textId = added.id;
    } catch (error) {
      notices.report(error);
    } finally {
      this.addingText = false;
    }
  }

  /**
   * Counts the chosen text's tokens with the reference's tokenizer, once per (variants, text):
   * the form says before a run whether the text fills the chosen context. A failure (files of
   * different models, say) leaves the count unknown; the run's start reports it.
   */
  async countTextTokens(): Promise<void> {
    const modelIds = [...this.chosenVariants].sort();
    const textId = this.textId;
    const key = `${modelIds.join(",")}|${textId}`;
    if (modelIds.length === 0 || key === this.#countKey) return;
    this.#countKey = key;
    this.textTokens = null;
    this.counting = true;
    try {
      const counted = await api.countEvalTextTokens({ modelIds, textId });
      if (this.#countKey === key) this.textTokens = { key, ...counted };
    } catch {
      // Unknown: the run's start checks again and reports why.
    } finally {
      if (this.#countKey === key) this.counting = false;
    }
  }

  /** The count for the current choice, if known. */
  get currentTextTokens(): { tokens: number; modelId: string } | null {
    const key = `${[...this.chosenVariants].sort().join(",")}|${this.textId}`;
    return this.textTokens?.key === key ? this.textTokens : null;
  }

  /** Deletes an evaluation text the user added (the view has asked first). */
  async deleteText(textId: string): Promise<void> {
    try {
      await api.deleteEvalText({ textId });
    } catch (error) {
      notices.report(error);
    }
    try {
      this.texts = await api.listEvalTexts();
    } catch (error) {
      notices.report(error);
    }
    if (!this.texts.some((text) => text.id === this.textId)) this.textId = this.texts[0]?.id ?? "mixed";
  }

  async compare(): Promise<void> {
    this.starting = true;
    try {
      const { runId } = await api.startComparison({
        modelIds: [...this.chosenVariants],
        textId: this.textId,
        contextSize: this.contextSize,
        ...(this.qualityOnly ? { qualityOnly: true } : {}),
      });
      this.runningId = runId;
      this.progress = null;
    } catch (error) {
      notices.report(error);
    } finally {
      this.starting = false;
    }
  }

  #awaitingSideBySide = false;

  async runSideBySide(): Promise<void> {
    this.#awaitingSideBySide = true;
    try {
      await api.startSideBySide({ modelIds: [...this.chosenVariants], prompt: this.prompt, maxTokens: this.promptTokens });
    } catch (error) {
      this.#awaitingSideBySide = false;
      notices.report(error);
    }
  }

  async cancelRun(): Promise<void> {
    if (!this.runningId) return;
    try {
      await api.cancelComparison({ runId: this.runningId });
    } catch (error) {
      notices.report(error);
    }
  }

  async open(runId: string): Promise<void> {
    try {
      this.run = await api.getLabRun({ runId });
    } catch (error) {
      notices.report(error);
    }
  }

  toggleRun(runId: string, on: boolean): void {
    this.chosenRuns = on ? [...new Set([...this.chosenRuns, runId])] : this.chosenRuns.filter((id) => id !== runId);
  }

  /** Fetches the chosen saved runs and shows them together. */
  async compareRuns(): Promise<void> {
    const ids = [...this.chosenRuns];
    if (ids.length < 2) return;
    try {
      this.comparedRuns = await Promise.all(ids.map((runId) => api.getLabRun({ runId })));
    } catch (error) {
      notices.report(error);
    }
  }

  closeComparedRuns(): void {
    this.comparedRuns = [];
  }

  /** Deletes the cached reference distributions (each is computed again when next needed). */
  async clearReferenceCache(): Promise<void> {
    try {
      await api.clearReferenceCache();
      this.referenceCache = await api.getReferenceCache();
    } catch (error) {
      notices.report(error);
    }
  }

  /** Deletes a saved run (the view has asked first) and takes it out of whatever shows it. */
  async deleteRun(runId: string): Promise<void> {
    try {
      await api.deleteLabRun({ runId });
    } catch (error) {
      notices.report(error);
      await this.refreshRuns().catch(() => undefined);
      return;
    }
    this.chosenRuns = this.chosenRuns.filter((id) => id !== runId);
    const compared = this.comparedRuns.filter((run) => run.id !== runId);
    this.comparedRuns = compared.length >= 2 ? compared : [];
    if (this.run?.id === runId) this.run = null;
    try {
      await this.refreshRuns();
    } catch (error) {
      notices.report(error);
    }
  }

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDescending = !this.sortDescending;
    else {
      this.sortKey = key;
      this.sortDescending = false;
    }
  }
}

export const lab = new LabStore();
