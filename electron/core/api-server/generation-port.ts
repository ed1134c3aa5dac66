// The API server's one door to the engine: the core's generation queue (one engine, one
// queue shared with the conversations, fair turns, stop by request id). The API needs only
// this much of it; its deltas may carry log probabilities when a request asked for them.

import type { PromptUsage, TokenLogprob } from "../../engine/protocol.js";
import type { GenerationDelta as QueueDelta, GenerationQueue } from "../generation/generation-queue.js";

export type GenerationDelta = QueueDelta & { logprobs?: TokenLogprob[]; prompt?: PromptUsage };

export type GenerationQueuePort = Pick<GenerationQueue, "submit" | "stop" | "waiting">;
