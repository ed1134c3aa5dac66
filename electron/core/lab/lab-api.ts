// The lab's part of the core contract: resolves model ids through the library (the renderer
// never sends a path) and hands the work to the LabService.

import type { CoreApi } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { ModelLibrary } from "../library/model-library.js";
import { LabService, type LabServiceOptions } from "./lab-service.js";

export type LabApi = Pick<
  CoreApi,
  | "getQuantizePlan"
  | "startQuantize"
  | "cancelQuantize"
  | "listQuantizeJobs"
  | "listEvalTexts"
  | "addEvalText"
  | "startComparison"
  | "cancelComparison"
  | "startSideBySide"
  | "listLabRuns"
  | "getLabRun"
  | "deleteLabRun"
  | "getReferenceCache"
  | "clearReferenceCache"
>;

export function createLabApi(options: LabServiceOptions & { library: ModelLibrary }): { api: LabApi; dispose(): void } {
  const lab = new LabService(options);
  const { library } = options;
  const api: LabApi = {
    getQuantizePlan: async ({ modelId }) => lab.plan(modelId, (await library.resolve(modelId)).path, true),
    startQuantize: async ({ modelId, types }) => lab.enqueueQuantize(modelId, (await library.resolve(modelId)).path, types),
    cancelQuantize: ({ jobId }) => lab.cancelJob(jobId),
    listQuantizeJobs: async () => lab.listJobs(),
    listEvalTexts: () => lab.listTexts(),
    addEvalText: ({ title, text }) => lab.texts.add(title, text),
    startComparison: async ({ modelIds, textId, contextSize }) => {
      if (new Set(modelIds).size !== modelIds.length) throw new QuantaError("invalid_request", "A variant is chosen twice.");
      const entries = await Promise.all(modelIds.map((modelId) => library.resolve(modelId)));
      const text = { id: textId, ...(await lab.texts.get(textId)) };
      const { runId, done } = await lab.startComparison({
        files: entries.map((entry) => ({ path: entry.path, modelId: entry.summary.id })),
        text,
        contextSize,
      });
      done.catch(() => undefined);
      return { runId };
    },
    cancelComparison: ({ runId }) => lab.cancelComparison(runId),
    startSideBySide: async ({ modelIds, prompt, maxTokens }) => {
      if (new Set(modelIds).size !== modelIds.length) throw new QuantaError("invalid_request", "A variant is chosen twice.");
      const entries = await Promise.all(modelIds.map((modelId) => library.resolve(modelId)));
      const { id, done } = await lab.startSideBySide(
        entries.map((entry) => ({ path: entry.path, modelId: entry.summary.id })),
        prompt,
        maxTokens,
      );
      done.catch(() => undefined);
      return { id };
    },
    listLabRuns: () => lab.listRuns(),
    getLabRun: ({ runId }) => lab.runs.get(runId),
    deleteLabRun: ({ runId }) => lab.runs.delete(runId),
    getReferenceCache: () => lab.referenceCache.usage(),
    clearReferenceCache: () => lab.clearReferenceCache(),
  };
  return { api, dispose: () => lab.dispose() };
}
