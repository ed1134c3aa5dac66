// Error codes and the one error type that crosses every process boundary: a code plus a
// human message. Pure TypeScript: the renderer, the core and the engine all use it.

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
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The shape an error has on the wire. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

export class QuantaError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "QuantaError";
    this.code = code;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into a wire error; unknown errors keep their message under "internal". */
export function toWireError(error: unknown, fallback: ErrorCode = "internal"): WireError {
  if (error instanceof QuantaError) return error.toWire();
  if (typeof error === "object" && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (isErrorCode(code) && typeof message === "string") return { code, message };
    if (typeof message === "string" && message !== "") return { code: fallback, message };
  }
  if (typeof error === "string" && error !== "") return { code: fallback, message: error };
  return { code: fallback, message: "Something went wrong, and no further detail was given." };
}

export function fromWireError(wire: WireError): QuantaError {
  return new QuantaError(wire.code, wire.message);
}
