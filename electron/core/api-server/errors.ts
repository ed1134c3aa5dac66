// Errors as each API words them: OpenAI's {error: {message, type, param, code}} and
// Anthropic's {type: "error", error: {type, message}}, with the HTTP status that fits.

import type { z } from "zod";
import { toWireError, type ErrorCode } from "../../contract/errors.js";

export type ApiDialect = "openai" | "anthropic";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request field at fault ("messages[0].role"), when there is one. */
    readonly param: string | null = null,
    /** OpenAI's machine-readable code ("model_not_found", "invalid_api_key"…). */
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, { status: number; code: string | null }>> = {
  invalid_request: { status: 400, code: null },
  context_overflow: { status: 400, code: "context_length_exceeded" },
  unauthorized: { status: 401, code: "invalid_api_key" },
  not_found: { status: 404, code: "model_not_found" },
  model_invalid: { status: 400, code: "model_invalid" },
  busy: { status: 429, code: "busy" },
  no_model_loaded: { status: 503, code: "no_model_loaded" },
  engine_crashed: { status: 503, code: "engine_crashed" },
  engine_unavailable: { status: 503, code: "engine_unavailable" },
  timeout: { status: 504, code: "timeout" },
  cancelled: { status: 499, code: "cancelled" },
};

/** Anything thrown while serving a request, as an ApiError (unknown errors are a 500 with their message). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const wire = toWireError(error, "internal");
  const mapped = STATUS_BY_CODE[wire.code] ?? { status: 500, code: wire.code };
  return new ApiError(mapped.status, wire.message, null, mapped.code);
}

/** The path of a zod issue as a client writes it: messages[0].content. */
function issuePath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) text += typeof part === "number" ? `[${part}]` : text === "" ? String(part) : `.${String(part)}`;
  return text;
}

/** A 400 naming the first invalid field and why. */
export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError(400, "The request is invalid.");
  const param = issuePath(issue.path);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  return new ApiError(400, `${param === "" ? "The request body" : param}: ${issue.message}${more}.`, param === "" ? null : param);
}

function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503) return "service_unavailable_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function anthropicType(status: number): string {
  switch (status) {
    case 400:
    case 405:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
      return "overloaded_error";
    default:
      return "api_error";
  }
}

export function errorBody(dialect: ApiDialect, error: ApiError): unknown {
  if (dialect === "anthropic") return { type: "error", error: { type: anthropicType(error.status), message: error.message } };
  return { error: { message: error.message, type: openAiType(error.status), param: error.param, code: error.code } };
}
