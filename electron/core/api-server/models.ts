// GET /v1/models and GET /v1/models/{id}: the library under the API's readable ids.

import type { ApiModel } from "./completion-runner.js";
import type { EndpointContext } from "./endpoint.js";
import { ApiError } from "./errors.js";
import { sendJson } from "./http-io.js";

function describe(model: ApiModel) {
  return {
    id: model.apiId,
    object: "model",
    // When the file was last changed, as the library last saw it: the closest to "made" a local file has.
    // Every client expects a number here; 0 (the epoch) only when the library lost track of the file.
    created: model.created ?? 0,
    owned_by: model.summary.source === "quanta" ? "quanta" : model.summary.source,
    loaded: model.loaded,
    quantization: model.summary.quantization,
    context_length: model.summary.contextLength,
  };
}

export function handleListModels(context: EndpointContext): Promise<void> {
  sendJson(context.response, 200, { object: "list", data: context.runner.models().map(describe) }, context.headers);
  return Promise.resolve();
}

export function handleGetModel(context: EndpointContext, id: string): Promise<void> {
  const model = context.runner.models().find((candidate) => candidate.apiId === id);
  if (!model)
    throw new ApiError(404, `The model "${id.slice(0, 200)}" does not exist. GET /v1/models lists the ids.`, "model", "model_not_found");
  context.record({ model: model.apiId });
  sendJson(context.response, 200, describe(model), context.headers);
  return Promise.resolve();
}
