// Entry of the engine process: the only process that loads node-llama-cpp and native code.
// It serves EngineApi to the core over its parent channel; a native fault here ends this
// process only, and the core starts a new one.

import { createBirpc } from "birpc";
import { QuantaError } from "../contract/errors.js";
import { validatingResolver } from "../contract/validation.js";
import { decodeRpcMessage, encodeRpcMessage } from "../contract/wire.js";
import { estimateFit } from "./fit-estimate.js";
import { completeForApi, embedForApi } from "./api-generation.js";
import { generateReply } from "./generation.js";
import { countTokens } from "./token-count.js";
import { LAB_ENGINE_EVENT_NAMES, labEngineRequestSchemas, type LabEngineApi, type LabEngineEvents } from "./lab-protocol.js";
import { createLabWorker } from "./lab-worker.js";
import { ModelSession } from "./model-session.js";
import { connectToParent } from "./parent-channel.js";
import { ENGINE_EVENT_NAMES, engineRequestSchemas, type EngineApi, type EngineEvents } from "./protocol.js";

const parent = connectToParent();
const session = new ModelSession();
let activeRequest: { id: string; stopRequested: boolean; abort?: AbortController } | null = null;
let queue: Promise<unknown> = Promise.resolve();

/** Runs load, unload and generate one after another, never two at once. */
function exclusive<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

// Events to the core are posted without an answer (birpc resolves them once sent), so the
// calls below that drop their promise leave nothing to wait for.
const api: EngineApi & LabEngineApi = {
  loadModel: (request) => exclusive(() => session.load(request, (progress, phase) => void core.loadProgress({ progress, phase }))),

  unloadModel: () => exclusive(() => session.unload()),

  // Read-only: runs beside a generation, not queued after it.
  estimateFit: (request) => estimateFit(request),

  generate: (request) => {
    if (activeRequest) throw new QuantaError("busy", "A reply is already being generated.");
    const state = { id: request.requestId, stopRequested: false };
    activeRequest = state;
    return exclusive(async () => {
      try {
        const target = session.targetFor({ contextLimit: request.contextLimit, chatTemplate: request.chatTemplate });
        if (!target) throw new QuantaError("no_model_loaded", "No model is loaded. Load a model first.");
        return await generateReply(
          target,
          request.messages,
          request.sampling,
          {
            onText: (text, progress) => void core.delta({ requestId: request.requestId, text, ...progress }),
            isStopRequested: () => state.stopRequested,
          },
          request.droppedBefore,
        );
      } finally {
        activeRequest = null;
      }
    });
  },

  // Read-only and synchronous: answered beside a generation, never queued behind it.
  countTokens: (request) =>
    new Promise((resolve) => {
      const target = session.targetFor({ contextLimit: request.contextLimit, chatTemplate: request.chatTemplate });
      if (!target) throw new QuantaError("no_model_loaded", "No model is loaded. Load a model first.");
      resolve(countTokens(target, request));
    }),

  // The local API server's completion: same one-at-a-time slot and stop as a chat reply.
  complete: (request) => {
    if (activeRequest) throw new QuantaError("busy", "A reply is already being generated.");
    const abort = new AbortController();
    const state = { id: request.requestId, stopRequested: false, abort };
    activeRequest = state;
    return exclusive(async () => {
      try {
        const target = session.targetFor({});
        if (!target) throw new QuantaError("no_model_loaded", "No model is loaded. Load a model first.");
        return await completeForApi(target, request, {
          onText: (text, progress, logprobs) =>
            void core.delta({ requestId: request.requestId, text, ...progress, ...(logprobs ? { logprobs } : {}) }),
          onPrompt: (prompt) =>
            void core.delta({ requestId: request.requestId, text: "", generatedTokens: 0, contextUsed: prompt.tokens, prompt }),
          isStopRequested: () => state.stopRequested,
          signal: abort.signal,
        });
      } finally {
        activeRequest = null;
      }
    });
  },

  embed: (request) =>
    exclusive(async () => {
      const target = session.targetFor({});
      if (!target) throw new QuantaError("no_model_loaded", "No model is loaded. Load a model first.");
      return embedForApi(target, request.inputs);
    }),

  stop: ({ requestId }) => {
    if (activeRequest?.id === requestId) {
      activeRequest.stopRequested = true;
      activeRequest.abort?.abort();
    }
    return Promise.resolve();
  },

  // Not queued behind a generation: the monitor reads it while a reply runs.
  usage: () => session.usage(),

  // The lab's calls: made on an engine process of the lab's own, never the chat's.
  ...createLabWorker(
    (progress) => void core.labProgress(progress),
    (text) => void core.labPiece({ text }),
  ),
};

const core = createBirpc<EngineEvents & LabEngineEvents, EngineApi & LabEngineApi>(api, {
  post: (message) => parent.post(encodeRpcMessage(message)),
  on: (listener) => parent.on((message) => listener(decodeRpcMessage(message))),
  eventNames: [...ENGINE_EVENT_NAMES, ...LAB_ENGINE_EVENT_NAMES],
  resolver: validatingResolver({ ...engineRequestSchemas, ...labEngineRequestSchemas }),
  timeout: -1,
});

void core.ready({ pid: process.pid });
