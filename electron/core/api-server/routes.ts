// The API's routes: which handler serves a method and path, and in which API's error shape.

import { handleMessages } from "./anthropic-messages.js";
import { handleEmbeddings } from "./embeddings.js";
import type { EndpointContext } from "./endpoint.js";
import type { ApiDialect } from "./errors.js";
import { handleGetModel, handleListModels } from "./models.js";
import { handleCompletions } from "./openai-completions.js";
import { handleChatCompletions } from "./openai-chat.js";

export interface Route {
  method: "GET" | "POST";
  dialect: ApiDialect;
  /** Generation endpoints are logged with their figures; the rest too, but cheaply. */
  handle(context: EndpointContext): Promise<void>;
}

const FIXED: Record<string, Route> = {
  "/v1/models": { method: "GET", dialect: "openai", handle: handleListModels },
  "/v1/chat/completions": { method: "POST", dialect: "openai", handle: handleChatCompletions },
  "/v1/completions": { method: "POST", dialect: "openai", handle: handleCompletions },
  "/v1/embeddings": { method: "POST", dialect: "openai", handle: handleEmbeddings },
  "/v1/messages": { method: "POST", dialect: "anthropic", handle: handleMessages },
};

/** The route for a path (query string removed), or null. */
export function findRoute(pathname: string): Route | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const fixed = Object.hasOwn(FIXED, path) ? FIXED[path] : undefined;
  if (fixed) return fixed;
  const model = /^\/v1\/models\/(.+)$/.exec(path);
  if (model?.[1]) {
    let id: string;
    try {
      id = decodeURIComponent(model[1]);
    } catch {
      return null;
    }
    return { method: "GET", dialect: "openai", handle: (context) => handleGetModel(context, id) };
  }
  return null;
}

/** Anthropic's clients get Anthropic's error shape even on paths that do not exist. */
export function dialectFor(pathname: string): ApiDialect {
  return pathname.startsWith("/v1/messages") ? "anthropic" : "openai";
}
