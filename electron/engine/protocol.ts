// The typed channel between the core and the engine process: the calls the core makes, the
// events the engine sends back, and the zod schemas each side uses on what it receives.

import { z } from "zod";
import {
  batchSizeSchema,
  flashAttentionChoiceSchema,
  kvCacheTypeSchema,
  mmapChoiceSchema,
  samplingValuesSchema,
  type FitOptions,
} from "../contract/api.js";
import type {
  EngineBuild,
  FitEstimate,
  GenerationStats,
  LoadOptionsInEffect,
  ModelFootprint,
  ThreadCalibration,
} from "../contract/types.js";
import { apiEngineRequestSchemas, tokenLogprobSchema, type ApiEngineApi, type PromptUsage, type TokenLogprob } from "./api-protocol.js";
// The local API server's calls are part of this channel: the core imports them from here.
export * from "./api-protocol.js";

/** The sampling values the core resolved for a reply: the contract's schema, one definition for both boundaries. */
export const samplingSchema = samplingValuesSchema;

export type SamplingSettings = z.infer<typeof samplingSchema>;

export const promptMessageSchema = z.object({ role: z.enum(["system", "user", "assistant"]), text: z.string() }).strict();

export type PromptMessage = z.infer<typeof promptMessageSchema>;

const loadRequestSchema = z
  .object({
    path: z.string().min(1),
    contextSize: z
      .number()
      .int()
      .min(16)
      .max(1 << 20),
    /** null: measure the best thread count now. */
    threads: z.number().int().min(1).max(512).nullable(),
    /** Threads for batches (prompts); null or absent: measure the best count now. */
    batchThreads: z.number().int().min(1).max(512).nullable().optional(),
    gpuLayers: z.union([z.literal("auto"), z.number().int().min(0)]),
    // The load options beside GPU layers (contract ModelLoadChoice); absent: llama.cpp's defaults.
    flashAttention: flashAttentionChoiceSchema.optional(),
    kvCacheType: kvCacheTypeSchema.optional(),
    batchSize: batchSizeSchema.nullable().optional(),
    mmap: mmapChoiceSchema.optional(),
    mlock: z.boolean().optional(),
  })
  .strict();

export type LoadRequest = z.infer<typeof loadRequestSchema>;

/** The load options the estimate is sized by (the KV cache type, flash attention, batch size). */
const fitOptionsSchema = {
  flashAttention: flashAttentionChoiceSchema.optional(),
  kvCacheType: kvCacheTypeSchema.optional(),
  batchSize: batchSizeSchema.nullable().optional(),
};

export type FitEstimateOptions = FitOptions;

export type FitEstimateRequest = ({ path: string; contextSize: number } | { url: string; contextSize: number }) & FitEstimateOptions;

/** llama.cpp's estimate of what a model needs at a context size (the contract's FitEstimate, less the model id). */
export type EngineFitEstimate = Omit<FitEstimate, "modelId">;

const contextLimitSchema = z
  .number()
  .int()
  .min(16)
  .max(1 << 20)
  .optional();
const chatTemplateSchema = z.string().min(1).max(64).nullable().optional();
/** How many oldest turns the conversation's last reply left out (its provenance): a new reply leaves out at least as many while that still fits. */
const droppedBeforeSchema = z
  .number()
  .int()
  .min(0)
  .max(1 << 24)
  .optional();

const generateRequestSchema = z
  .object({
    requestId: z.string().min(1),
    messages: z.array(promptMessageSchema).min(1),
    sampling: samplingSchema,
    /** The most context this reply may fill (the conversation's own limit); the loaded size when absent. */
    contextLimit: contextLimitSchema,
    /** A node-llama-cpp chat wrapper name to use instead of the model's own template. */
    chatTemplate: chatTemplateSchema,
    droppedBefore: droppedBeforeSchema,
  })
  .strict();

export type GenerateRequest = z.infer<typeof generateRequestSchema>;

const countTokensRequestSchema = z
  .object({
    messages: z.array(promptMessageSchema),
    /** A message being typed, counted as if sent now; null: the conversation only. */
    draft: z.string().nullable(),
    contextLimit: contextLimitSchema,
    chatTemplate: chatTemplateSchema,
    droppedBefore: droppedBeforeSchema,
  })
  .strict();

export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

/** Counted with the loaded model's tokenizer and the template a reply would use. */
export interface EngineTokenCount {
  /** The window: the conversation's limit within the loaded context. */
  contextSize: number;
  chatTemplate: string;
  /** The conversation (system prompt and turns) through the template; null when a draft was counted instead. */
  conversationTokens: number | null;
  draft: {
    tokens: number;
    promptTokens: number;
    leftTokens: number;
    fit: "fits" | "drops_turns" | "too_long";
    droppedMessages: number;
  } | null;
}

export const engineRequestSchemas = {
  loadModel: z.tuple([loadRequestSchema]),
  unloadModel: z.tuple([]),
  estimateFit: z.tuple([
    z.union([
      z
        .object({
          path: z.string().min(1),
          contextSize: z
            .number()
            .int()
            .min(16)
            .max(1 << 21),
          ...fitOptionsSchema,
        })
        .strict(),
      // A model on the hub: its header is read over HTTP with Range requests.
      z
        .object({
          url: z.url({ protocol: /^https?$/ }),
          contextSize: z
            .number()
            .int()
            .min(16)
            .max(1 << 21),
        })
        .strict(),
    ]),
  ]),
  generate: z.tuple([generateRequestSchema]),
  countTokens: z.tuple([countTokensRequestSchema]),
  stop: z.tuple([z.object({ requestId: z.string().min(1) }).strict()]),
  usage: z.tuple([]),
  // The local API server's calls (api-protocol.ts).
  ...apiEngineRequestSchemas,
} as const;

/** What the loaded model occupies, for the hardware monitor (the core adds the model's id). */
export interface EngineModelUsage extends Omit<ModelFootprint, "modelId"> {
  contextUsed: number;
  contextSize: number;
}

/** The engine process's own readings, taken when the core's monitor samples. */
export interface EngineUsage {
  pid: number;
  /** process.cpuUsage(): user + system, microseconds since the process started. */
  cpuMicros: number;
  rssBytes: number;
  model: EngineModelUsage | null;
  /** From llama.cpp's backend; null on the CPU backend. */
  vram: { totalBytes: number; usedBytes: number } | null;
  gpuNames: string[];
}

export interface EngineLoadResult {
  contextSize: number;
  threads: number;
  calibration: ThreadCalibration | null;
  /** Threads for batches (prompts). */
  batchThreads: number;
  /** Measured now when not given in the request; null otherwise. */
  batchCalibration: NonNullable<ThreadCalibration["batch"]> | null;
  gpu: string | null;
  gpuLayers: number;
  /** The request's gpuLayers, as the engine received it. */
  gpuLayersAsked: "auto" | number;
  chatTemplate: string;
  /** The load options in effect, read back from node-llama-cpp. */
  options: LoadOptionsInEffect;
  /** The llama.cpp build that loaded the model. */
  build: EngineBuild;
}

export interface EngineGenerationResult {
  text: string;
  stats: GenerationStats;
  /** Oldest messages left out so the prompt fit (the system prompt is always kept). */
  droppedMessages: number;
  /** The chat template the prompt was built with. */
  chatTemplate: string;
  /** The context window the prompt was fitted into. */
  contextSize: number;
}

/** What the engine serves to the core. */
export interface EngineApi extends ApiEngineApi {
  loadModel(request: LoadRequest): Promise<EngineLoadResult>;
  unloadModel(): Promise<void>;
  /** Will a model fit at a context size? Read-only: runs beside a generation, not after it. */
  estimateFit(request: FitEstimateRequest): Promise<EngineFitEstimate>;
  generate(request: GenerateRequest): Promise<EngineGenerationResult>;
  /** Token counts for the chat view; read-only, beside a generation rather than after it. */
  countTokens(request: CountTokensRequest): Promise<EngineTokenCount>;
  stop(request: { requestId: string }): Promise<void>;
  usage(): Promise<EngineUsage>;
}

export const engineEventSchemas = {
  loadProgress: z.tuple([z.object({ progress: z.number().min(0).max(1), phase: z.enum(["loading", "calibrating"]) }).strict()]),
  delta: z.tuple([
    z
      .object({
        requestId: z.string(),
        text: z.string(),
        generatedTokens: z.number().int().min(0),
        contextUsed: z.number().int().min(0),
        /** Only for an API request that asked for log probabilities. */
        logprobs: z.array(tokenLogprobSchema).optional(),
        /** On an API request's first delta: the prompt's size and how much of it was cached. */
        prompt: z
          .object({ tokens: z.number().int().min(0), cached: z.number().int().min(0) })
          .strict()
          .optional(),
      })
      .strict(),
  ]),
  ready: z.tuple([z.object({ pid: z.number().int() }).strict()]),
} as const;

/** What the core serves to the engine: events only, never awaited. */
export interface EngineEvents {
  loadProgress(event: { progress: number; phase: "loading" | "calibrating" }): void;
  /** Text since the last delta, with the reply's token count and the context in use so far. */
  delta(event: {
    requestId: string;
    text: string;
    generatedTokens: number;
    contextUsed: number;
    logprobs?: TokenLogprob[];
    prompt?: PromptUsage;
  }): void;
  ready(event: { pid: number }): void;
}

export const ENGINE_EVENT_NAMES = ["loadProgress", "delta", "ready"] as const satisfies readonly (keyof EngineEvents)[];
