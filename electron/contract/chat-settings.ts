// Sampling presets, the default conversation settings and the chat templates one may choose.
// Pure values (no zod, no node:): the core and the renderer both read them.

import type { ChatSettings, SamplingPresetName, SamplingValues } from "./types.js";

/** The context window a model is loaded with; a model trained on less gets its own size. */
export const DEFAULT_LOAD_CONTEXT_SIZE = 4096;

export const SAMPLING_PRESETS: Readonly<Record<SamplingPresetName, SamplingValues>> = {
  // Near-greedy: for code and facts, where the likeliest token is usually right.
  precise: { temperature: 0.2, topK: 20, topP: 0.9, minP: 0.1, repeatPenalty: 1, seed: null, maxTokens: 2048 },
  // llama.cpp's own defaults.
  balanced: { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: null, maxTokens: 2048 },
  creative: { temperature: 1.1, topK: 100, topP: 0.98, minP: 0.02, repeatPenalty: 1.05, seed: null, maxTokens: 2048 },
};

export const SAMPLING_PRESET_NAMES = ["precise", "balanced", "creative"] as const satisfies readonly SamplingPresetName[];

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
  systemPrompt: "",
  preset: "balanced",
  overrides: {},
  contextSize: null,
  chatTemplate: null,
};

/** node-llama-cpp's specialized chat wrappers (a unit test keeps this list equal to theirs). */
export const KNOWN_CHAT_TEMPLATES = [
  "general",
  "deepSeek",
  "qwen",
  "llama3.2-lightweight",
  "llama3.1",
  "llama3",
  "llama2Chat",
  "mistral",
  "alpacaChat",
  "functionary",
  "chatML",
  "falconChat",
  "gemma4",
  "gemma",
  "harmony",
  "muse",
  "seed",
] as const;

export type KnownChatTemplate = (typeof KNOWN_CHAT_TEMPLATES)[number];

/** The preset's values with this conversation's overrides on top. */
export function resolveSampling(settings: ChatSettings, base: Partial<SamplingValues> = {}): SamplingValues {
  return { ...SAMPLING_PRESETS[settings.preset], ...base, ...settings.overrides };
}

/** Every field of ChatSettings (the defaults have each one). */
const SETTING_KEYS = Object.keys(DEFAULT_CHAT_SETTINGS) as (keyof ChatSettings)[];

function sameSetting(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const left = Object.entries(a);
  return left.length === Object.keys(b).length && left.every(([key, value]) => (b as Record<string, unknown>)[key] === value);
}

/**
 * The fields `edited` changed from `base`, and only those: what a tab saves. A field it left
 * alone is not sent, so it cannot undo what another tab saved meanwhile.
 */
export function settingsChanges(base: ChatSettings, edited: ChatSettings): Partial<ChatSettings> {
  const changes: Partial<ChatSettings> = {};
  for (const key of SETTING_KEYS) {
    if (!sameSetting(base[key], edited[key])) Object.assign(changes, { [key]: edited[key] });
  }
  return changes;
}

/** A working copy taken from `base`, moved onto `next` (saved since, here or elsewhere): its own changes kept. */
export function rebaseSettings(edited: ChatSettings, base: ChatSettings, next: ChatSettings): ChatSettings {
  return { ...next, ...settingsChanges(base, edited) };
}
