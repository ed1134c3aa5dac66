// Error codes and the one error type that crosses every process boundary: a code, optional
// parameters (the figures and names the renderer words the error with, in the user's
// language), and an English message for logs, the CLI and codes a renderer does not know.
// Pure TypeScript: the renderer, the core and the engine all use it.

export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "not_found",
  "model_invalid",
  "model_load_failed",
  // Model library and downloads
  "hub_unreachable",
  "download_failed",
  "checksum_mismatch",
  "disk_full",
  "no_model_loaded",
  "context_overflow",
  "busy",
  // A queued request stopped before its turn on the engine
  "cancelled",
  "engine_crashed",
  "engine_unavailable",
  "generation_failed",
  "storage_failed",
  "timeout",
  // Local API server: the port is taken by another program.
  "address_in_use",
  // A conversation file to import is not one Quanta exported (params.reason says how).
  "chat_import_invalid",
  // A name that must be unique (a saved system prompt's) is used already.
  "name_taken",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What the renderer needs to word an error: `reason` picks a more precise wording of the code
 * (its i18n key is error.<code>.<reason>), the other entries fill its placeholders. Sizes in
 * bytes, counts as numbers: the renderer formats them.
 */
export type ErrorParams = Readonly<Record<string, string | number>>;

/** The shape an error has on the wire. */
export interface WireError {
  code: ErrorCode;
  message: string;
  params?: ErrorParams;
}

export class QuantaError extends Error {
  readonly code: ErrorCode;
  readonly params: ErrorParams | undefined;

  constructor(code: ErrorCode, message: string, params?: ErrorParams) {
    super(message);
    this.name = "QuantaError";
    this.code = code;
    this.params = params;
  }

  toWire(): WireError {
    return this.params === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, params: this.params };
  }
}

/** Parameters as they may arrive from elsewhere: a flat record of strings and finite numbers, else none. */
export function asErrorParams(value: unknown): ErrorParams | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > 32) return undefined;
  for (const [, item] of entries) {
    if (!(typeof item === "string" || (typeof item === "number" && Number.isFinite(item)))) return undefined;
  }
  return Object.fromEntries(entries);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into a wire error; unknown errors keep their message under "internal". */
export function toWireError(error: unknown, fallback: ErrorCode = "internal"): WireError {
  if (error instanceof QuantaError) return error.toWire();
  if (typeof error === "object" && error !== null) {
    const { code, message, params } = error as { code?: unknown; message?: unknown; params?: unknown };
    if (isErrorCode(code) && typeof message === "string") {
      const checked = asErrorParams(params);
      return checked === undefined ? { code, message } : { code, message, params: checked };
    }
    if (typeof message === "string" && message !== "") return { code: fallback, message };
  }
  if (typeof error === "string" && error !== "") return { code: fallback, message: error };
  return { code: fallback, message: "Something went wrong, and no further detail was given." };
}

export function fromWireError(wire: WireError): QuantaError {
  return new QuantaError(wire.code, wire.message, asErrorParams(wire.params));
}
