// Generation defaults: llama.cpp's own sampling defaults, and a context size that suits a
// laptop. The chat controls issue makes these per-conversation settings.

import type { SamplingSettings } from "../../engine/protocol.js";

export const DEFAULT_SAMPLING: SamplingSettings = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1,
  seed: null,
  maxTokens: 2048,
};

/** The context window asked for; a model trained on less gets its own size. */
export const DEFAULT_CONTEXT_SIZE = 4096;
