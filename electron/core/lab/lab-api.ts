// The lab's part of the core contract: resolves model ids through the library (the renderer
// never sends a path) and hands the work to the LabService.

import type { CoreApi } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { ModelLibrary } from "../library/model-library.js";
import { TextUploads } from "../uploads/text-uploads.js";
import type { LabServiceOptions } from "./lab-options.js";
import { LabService } from "./lab-service.js";

export type LabApi = Pick<
  CoreApi,
  | "getQuantizePlan"
  | "startQuantize"
  | "cancelQuantize"
  | "listQuantizeJobs"
  | "listEvalTexts"
  | "addEvalText"
  | "startTextUpload"
  | "appendTextUpload"
  | "startComparison"
  | "cancelComparison"
  | "startSideBySide"
  | "listLabRuns"
  | "getLabRun"
  | "deleteLabRun"
  | "getReferenceCache"
  | "clearReferenceCache"
  | "countEvalTextTokens"
  | "deleteEvalText"
>;

/** What decides where a source's variants may go (variant-destination.ts). */
function variantSource(entry: Awaited<ReturnType<ModelLibrary["resolve"]>>) {
  return { path: entry.path, origin: entry.summary.source, fileName: entry.summary.fileName, familyName: entry.summary.familyName };
}

export function createLabApi(options: LabServiceOptions & { library: ModelLibrary }): { api: LabApi; dispose(): void } {
  const lab = new LabService(options);
  const { library } = options;
  const uploads = new TextUploads();
  const api: LabApi = {
    getQuantizePlan: async ({ modelId }) => lab.plan(modelId, variantSource(await library.resolve(modelId)), true),
    startQuantize: async ({ modelId, types, destination }) =>
      lab.enqueueQuantize(modelId, variantSource(await library.resolve(modelId)), types, destination),
    cancelQuantize: ({ jobId }) => lab.cancelJob(jobId),
    listQuantizeJobs: () => Promise.resolve(lab.listJobs()),
    listEvalTexts: () => lab.listTexts(),
    addEvalText: async (request) => lab.texts.add(request.title, "uploadId" in request ? uploads.take(request.uploadId) : request.text),
    // A refused upload rejects (the executor turns a throw into a rejection), as from an async method.
    startTextUpload: ({ chars }) => new Promise((resolve) => resolve(uploads.start(chars))),
    appendTextUpload: ({ uploadId, text }) => new Promise((resolve) => resolve(uploads.append(uploadId, text))),
    startComparison: async ({ modelIds, textId, contextSize, qualityOnly }) => {
      if (new Set(modelIds).size !== modelIds.length) throw new QuantaError("invalid_request", "A variant is chosen twice.");
      const entries = await Promise.all(modelIds.map((modelId) => library.resolve(modelId)));
      const text = { id: textId, ...(await lab.texts.get(textId)) };
      const { runId, done } = await lab.startComparison({
        files: entries.map((entry) => ({ path: entry.path, modelId: entry.summary.id })),
        text,
        contextSize,
        qualityOnly: qualityOnly ?? false,
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
    countEvalTextTokens: async ({ modelIds, textId }) => {
      const entries = await Promise.all(modelIds.map((modelId) => library.resolve(modelId)));
      const { text } = await lab.texts.get(textId);
      const { tokens, file } = await lab.countTextTokens(
        entries.map((entry) => ({ path: entry.path, modelId: entry.summary.id })),
        text,
      );
      const reference = entries.find((entry) => entry.path === file) ?? entries[0];
      return { tokens, modelId: reference?.summary.id ?? "" };
    },
    deleteEvalText: ({ textId }) => lab.texts.delete(textId),
  };
  return { api, dispose: () => lab.dispose() };
}
