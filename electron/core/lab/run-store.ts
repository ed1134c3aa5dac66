// Saved comparison runs: one JSON document per run under the data folder, written
// atomically, validated when read back (a damaged file is skipped in the list, never fatal).

import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { QuantaError } from "../../contract/errors.js";
import { ERROR_CODES } from "../../contract/errors.js";
import type { LabRun, LabRunSummary } from "../../contract/types.js";
import { writeJsonAtomic } from "../settings/json-file.js";

const wireError = z
  .object({ code: z.enum(ERROR_CODES), message: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])).optional() })
  .strict();
const kld = z.object({ mean: z.number(), median: z.number(), p99: z.number(), max: z.number() }).strict();

const variantSchema = z
  .object({
    modelId: z.string().nullable(),
    name: z.string(),
    fileName: z.string(),
    fileType: z.string(),
    sizeBytes: z.number(),
    parameterCount: z.number(),
    bitsPerWeight: z.number(),
    isReference: z.boolean(),
    loadMs: z.number(),
    // Null where not available (no GPU; not measured); runs saved before measured RSS growth here.
    ramBytes: z.number().nullable(),
    vramBytes: z.number().nullable(),
    footprint: z
      .object({
        weightsBytes: z.number(),
        kvCacheBytes: z.number().nullable(),
        computeBytes: z.number().nullable(),
        ramBytes: z.number(),
        vramBytes: z.number().nullable(),
        totalLayers: z.number(),
        gpuLayers: z.number(),
      })
      .strict()
      .optional(),
    threads: z.number(),
    batchThreads: z.number().int().min(1).optional(),
    // Null where not measured (a "quality only" run).
    promptTokens: z.number().nullable(),
    promptTokensPerSecond: z.number().nullable(),
    generatedTokens: z.number().nullable(),
    generationTokensPerSecond: z.number().nullable(),
    perplexity: z.number(),
    perplexityRatio: z.number(),
    kld: kld.nullable(),
    sameTopRate: z.number().nullable(),
    scoredTokens: z.number(),
    recipe: z.string().max(64).nullable().optional(),
  })
  .strict();

export const labRunSchema: z.ZodType<LabRun> = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]+$/),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    status: z.enum(["running", "complete", "failed", "cancelled"]),
    modelName: z.string(),
    architecture: z.string(),
    textId: z.string(),
    textTitle: z.string(),
    contextSize: z.number(),
    variants: z.array(variantSchema),
    machine: z
      .object({
        cpu: z.string(),
        cores: z.number(),
        memoryBytes: z.number(),
        gpu: z.string().nullable(),
        engineBuild: z
          .object({ kind: z.enum(["prebuilt", "local"]), llamaCpp: z.string().max(64), cpuVariant: z.string().max(64).nullable() })
          .strict()
          .optional(),
      })
      .strict(),
    error: wireError.nullable(),
    referenceCache: z
      .object({ status: z.enum(["reused", "stored", "uncached"]), reason: z.string().nullable() })
      .strict()
      .optional(),
    qualityOnly: z.boolean().optional(),
    failedFile: z.string().max(1000).optional(),
  })
  .strict();

export function summarizeRun(run: LabRun): LabRunSummary {
  return {
    id: run.id,
    createdAt: run.createdAt,
    status: run.status,
    modelName: run.modelName,
    textId: run.textId,
    textTitle: run.textTitle,
    contextSize: run.contextSize,
    variantCount: run.variants.length,
  };
}

export class LabRunStore {
  constructor(private readonly folder: string) {}

  save(run: LabRun): Promise<void> {
    return writeJsonAtomic(this.file(run.id), run);
  }

  async get(runId: string): Promise<LabRun> {
    const file = this.file(runId);
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch {
      throw new QuantaError("not_found", "That saved run is not there any more.");
    }
    let parsed: ReturnType<typeof labRunSchema.safeParse> | null = null;
    try {
      parsed = labRunSchema.safeParse(JSON.parse(text));
    } catch {
      // not JSON: damaged, below
    }
    if (!parsed?.success) throw new QuantaError("storage_failed", "That saved run is damaged and cannot be opened.");
    return parsed.data;
  }

  /** Removes a saved run for good (the Lab asks the user first). */
  async delete(runId: string): Promise<void> {
    try {
      await fs.unlink(this.file(runId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new QuantaError("not_found", "That saved run is not there any more.");
      throw new QuantaError("storage_failed", `The saved run could not be deleted: ${(error as Error).message}`);
    }
  }

  /** Newest first; damaged files are left out. */
  async list(): Promise<LabRunSummary[]> {
    let files: string[];
    try {
      files = (await fs.readdir(this.folder)).filter((file) => file.endsWith(".json"));
    } catch {
      return [];
    }
    const runs = await Promise.all(files.map((file) => this.get(file.slice(0, -5)).catch(() => null)));
    return runs
      .filter((run): run is LabRun => run !== null)
      .map(summarizeRun)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private file(runId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new QuantaError("invalid_request", "That is not a run id.");
    return path.join(this.folder, `${runId}.json`);
  }
}
