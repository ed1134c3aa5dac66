// The lab's calls on an engine process: quantizing and measuring variants. The core runs them
// in an engine process of their own (one per job, ended when the job ends or is cancelled),
// never in the one that serves chat, so a long measurement never blocks a reply.

import { z } from "zod";
import type { EngineBuild, MemoryFootprint, ThreadCalibration } from "../contract/types.js";
import type { EvaluationQuality, KldSummary } from "./evaluation-math.js";

const quantizeRequestSchema = z
  .object({
    input: z.string().min(1),
    output: z.string().min(1),
    type: z.string().min(1).max(32),
    threads: z.number().int().min(1).max(512),
  })
  .strict();

export type LabQuantizeRequest = z.infer<typeof quantizeRequestSchema>;

const measureRequestSchema = z
  .object({
    path: z.string().min(1),
    vocabSize: z.number().int().min(1),
    contextSize: z
      .number()
      .int()
      .min(16)
      .max(1 << 20),
    /** null: calibrate now. */
    threads: z.number().int().min(1).max(512).nullable(),
    /** Threads for batches (prompts, evaluation windows); null or absent: measure the best count now. */
    batchThreads: z.number().int().min(1).max(512).nullable().optional(),
    /** At most this many batch threads, whatever was measured best (the chat's engine keeps a core); absent: no cap. */
    batchThreadsCap: z.number().int().min(1).max(512).optional(),
    text: z.string().min(1),
    /** "reference" writes referenceFile; "compare" scores against it; "speed-only" evaluates nothing (a cached reference). */
    role: z.enum(["reference", "compare", "speed-only"]),
    referenceFile: z.string().min(1),
    /** Like llama-bench's pp512 and tg128; smaller where the context is smaller. */
    promptTokens: z
      .number()
      .int()
      .min(1)
      .max(1 << 16),
    generateTokens: z
      .number()
      .int()
      .min(1)
      .max(1 << 16),
    /** false: a "quality only" run, no speed tests (the speeds come back null). Absent: measured. */
    speed: z.boolean().optional(),
  })
  .strict();

export type LabMeasureRequest = z.infer<typeof measureRequestSchema>;

const continueRequestSchema = z
  .object({
    path: z.string().min(1),
    prompt: z.string().min(1).max(20_000),
    maxTokens: z.number().int().min(1).max(1024),
    threads: z.number().int().min(1).max(512).nullable(),
    /** The reference's continuation, for teacher-forced probabilities; null for the reference itself. */
    referenceTokens: z.array(z.number().int().min(0)).max(1024).nullable(),
  })
  .strict();

export type LabContinueRequest = z.infer<typeof continueRequestSchema>;

const predictRequestSchema = z.object({ input: z.string().min(1), types: z.array(z.string().min(1).max(32)).min(1).max(64) }).strict();

const countTokensRequestSchema = z.object({ path: z.string().min(1), text: z.string() }).strict();

export const labEngineRequestSchemas = {
  labCountTokens: z.tuple([countTokensRequestSchema]),
  labPredict: z.tuple([predictRequestSchema]),
  labQuantize: z.tuple([quantizeRequestSchema]),
  labMeasure: z.tuple([measureRequestSchema]),
  labContinue: z.tuple([continueRequestSchema]),
} as const;

/** Null where the speed tests were skipped ("quality only"). */
export interface LabSpeed {
  promptTokens: number | null;
  promptTokensPerSecond: number | null;
  generatedTokens: number | null;
  generationTokensPerSecond: number | null;
}

export interface LabMeasurement {
  loadMs: number;
  /** What the variant occupies at the evaluation's context, read from llama.cpp's buffers (memory-footprint.ts). */
  footprint: MemoryFootprint;
  gpuLayers: number;
  /** llama.cpp's GPU backend ("cuda", "vulkan", "metal"), null on the CPU. */
  gpu: string | null;
  /** The llama.cpp build that measured it. */
  build: EngineBuild;
  threads: number;
  /** Threads for batches: the prompt-speed run and the evaluation's windows. */
  batchThreads: number;
  calibration: ThreadCalibration | null;
  /** Measured now when the request gave no batch count. */
  batchCalibration: NonNullable<ThreadCalibration["batch"]> | null;
  speed: LabSpeed;
  /** Null for role "speed-only". */
  quality: EvaluationQuality | null;
}

export type { KldSummary, EvaluationQuality };

export interface LabContinuation {
  tokens: number[];
  pieces: string[];
  /** Teacher-forced probabilities of the reference's tokens (of its own tokens, for the reference). */
  referenceProbabilities: number[];
}

export interface LabEngineApi {
  /** The text's length in tokens as the evaluation tokenizes it (llama_tokenize with add_special), from the model's vocabulary alone. */
  labCountTokens(request: { path: string; text: string }): Promise<{ tokens: number }>;
  /** llama.cpp's dry run per type: the tensor data's size in bytes (to 0.01 MiB, as llama.cpp logs it), null where it failed. */
  labPredict(request: { input: string; types: string[] }): Promise<Record<string, number | null>>;
  labQuantize(request: LabQuantizeRequest): Promise<{ bytes: number }>;
  labMeasure(request: LabMeasureRequest): Promise<LabMeasurement>;
  labContinue(request: LabContinueRequest): Promise<LabContinuation>;
}

const progressSchema = z
  .object({
    phase: z.enum(["quantizing", "loading", "calibrating", "speed", "evaluating"]),
    fraction: z.number().min(0).max(1),
    bytesWritten: z.number().min(0).optional(),
    bytesExpected: z.number().min(0).optional(),
  })
  .strict();

export type LabEngineProgress = z.infer<typeof progressSchema>;

export const labEngineEventSchemas = {
  labProgress: z.tuple([progressSchema]),
  labPiece: z.tuple([z.object({ text: z.string() }).strict()]),
} as const;

export interface LabEngineEvents {
  labProgress(event: LabEngineProgress): void;
  /** Text of the continuation being generated, as it comes. */
  labPiece(event: { text: string }): void;
}

export const LAB_ENGINE_EVENT_NAMES = ["labProgress", "labPiece"] as const satisfies readonly (keyof LabEngineEvents)[];
