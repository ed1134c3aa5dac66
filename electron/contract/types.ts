// The data that crosses between renderer and core. Types only: the renderer imports these.

import type { WireError } from "./errors.js";

export interface AppInfo {
  version: string;
  /** "desktop" inside Electron, "headless" under `quanta serve`. */
  shell: "desktop" | "headless";
  platform: string;
  dataDir: string;
  modelFolders: string[];
}

/** One GGUF file found in a model folder, described from its header. */
export interface ModelSummary {
  id: string;
  name: string;
  fileName: string;
  folder: string;
  sizeBytes: number;
  architecture: string | null;
  /** llama.cpp's name of the file type, e.g. "Q4_K_M" or "F32". */
  quantization: string | null;
  parameterCount: number | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  /** Set when the header could not be read; such a model cannot be loaded. */
  error: WireError | null;
}

export interface ThreadTrial {
  threads: number;
  tokensPerSecond: number;
}

/** The outcome of measuring generation speed at each candidate thread count. */
export interface ThreadCalibration {
  chosen: number;
  trials: ThreadTrial[];
  measuredAt: string;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  contextSize: number;
  threads: number;
  /** How the thread count was chosen: measured now, remembered from an earlier measurement, or set by the user. */
  threadsSource: "calibrated" | "remembered" | "setting";
  calibration: ThreadCalibration | null;
  gpu: string | null;
  gpuLayers: number;
  chatTemplate: string;
  loadMs: number;
}

export type EngineState =
  | { kind: "starting" }
  | { kind: "idle" }
  | { kind: "loading"; modelId: string; progress: number; phase: "loading" | "calibrating" }
  | { kind: "ready"; model: LoadedModel }
  | { kind: "failed"; error: WireError; restarting: boolean };

export type StopReason = "end" | "stopped" | "max_tokens" | "context_full" | "error";

export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  /** Generation speed, first token excluded. */
  tokensPerSecond: number;
  promptTokensPerSecond: number;
  stopReason: StopReason;
  threads: number;
}

export type MessageRole = "user" | "assistant";

export type MessageStatus = "complete" | "streaming" | "stopped" | "failed";

export interface ChatMessage {
  id: string;
  role: MessageRole;
  text: string;
  createdAt: string;
  status: MessageStatus;
  modelId: string | null;
  stats: GenerationStats | null;
  error: WireError | null;
}

export interface Chat {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messages: ChatMessage[];
}

export interface ChatSummary {
  id: string;
  title: string;
  updatedAt: string;
  messageCount: number;
}

/** Events the core pushes to every connected renderer. */
export type CoreEvent =
  | { type: "engine"; state: EngineState }
  | { type: "models"; models: ModelSummary[] }
  | { type: "generation.delta"; chatId: string; messageId: string; text: string }
  | { type: "generation.done"; chatId: string; message: ChatMessage };
