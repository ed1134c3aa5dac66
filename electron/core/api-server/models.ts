// GET /v1/models and GET /v1/models/{id}: the library under the API's readable ids.

import type { ApiModel } from "./completion-runner.js";
import type { EndpointContext } from "./endpoint.js";
import { ApiError } from "./errors.js";
import { sendJson } from "./http-io.js";

function describe(model: ApiModel) {
  return {
    id: model.apiId,
    object: "model",
    // The library does not date models; 0 rather than a made-up time.
    created: 0,
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
