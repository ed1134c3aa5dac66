// POST /v1/embeddings: one vector per input string from the loaded model's embedding
// context, scaled to unit length as OpenAI's and llama-server's are.

import { parseBody, type EndpointContext } from "./endpoint.js";
import { sendJson } from "./http-io.js";
import { embeddingSchema } from "./openai-schemas.js";

function unitLength(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm > 0 ? vector.map((value) => value / norm) : [...vector];
}

export async function handleEmbeddings(context: EndpointContext): Promise<void> {
  const body = parseBody(embeddingSchema, context.body);
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  const model = context.runner.resolveModel(body.model);
  context.record({ model: model.apiId });
  const result = await context.runner.embed(inputs, {
    model,
    client: context.client,
    endpoint: "/v1/embeddings",
    signal: context.signal,
    noWait: context.noWait,
    onQueued: (position) => context.record({ queuedBehind: position }),
  });
  context.record({ promptTokens: result.promptTokens });
  sendJson(
    context.response,
    200,
    {
      object: "list",
      data: result.vectors.map((vector, index) => {
        const unit = unitLength(vector);
        return {
          object: "embedding",
          index,
          embedding: body.encoding_format === "base64" ? Buffer.from(new Float32Array(unit).buffer).toString("base64") : unit,
        };
      }),
      model: model.apiId,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    },
    context.headers,
  );
}
