// How RPC messages travel: birpc's messages, with errors turned into WireError on the way
// out and back into QuantaError on the way in. Shared by every transport (WebSocket,
// MessagePort, the engine's process channel) so errors always cross as code + message (+ parameters).

import { asErrorParams, fromWireError, isErrorCode, toWireError, type WireError } from "./errors.js";

interface ErrorCarrier {
  e?: unknown;
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const { code, message, params } = value as { code?: unknown; message?: unknown; params?: unknown };
  return isErrorCode(code) && typeof message === "string" && (params === undefined || asErrorParams(params) !== undefined);
}

/** Prepares an outgoing message object: a thrown error becomes a plain { code, message }. */
export function encodeRpcMessage(message: unknown): unknown {
  if (typeof message === "object" && message !== null && "e" in message) {
    const carrier = message as ErrorCarrier;
    if (carrier.e !== undefined) return { ...message, e: toWireError(carrier.e) };
  }
  return message;
}

/** Restores an incoming message object: an error becomes a QuantaError. */
export function decodeRpcMessage(message: unknown): unknown {
  if (typeof message === "object" && message !== null && "e" in message) {
    const carrier = message as ErrorCarrier;
    if (carrier.e !== undefined) {
      const wire = isWireError(carrier.e) ? carrier.e : toWireError(carrier.e, "internal");
      return { ...message, e: fromWireError(wire) };
    }
  }
  return message;
}

export function encodeRpcText(message: unknown): string {
  return JSON.stringify(encodeRpcMessage(message));
}

export function decodeRpcText(text: unknown): unknown {
  if (typeof text !== "string") throw new TypeError("RPC message is not text");
  return decodeRpcMessage(JSON.parse(text) as unknown);
}

// ---- The envelope of an inbound message, checked before birpc sees it ----------------------
// birpc trusts its input: a `null` message, an id nested thousands deep or an array-like
// `a` ({ length: 120000000 }, turned into an array by Function.prototype.apply) reject
// inside its async handler or allocate gigabytes. Every receiver of untrusted messages
// runs them through checkRpcEnvelope first.

/** birpc's ids are 21 characters; anything longer is not a call we made or answer. */
export const MAX_RPC_ID_CHARS = 64;
export const MAX_RPC_METHOD_CHARS = 64;
/** No method in any contract takes more than a few arguments. */
export const MAX_RPC_ARGUMENTS = 8;

export type RpcEnvelope = { t: "q"; m: string; a: unknown[]; i?: string; o?: boolean } | { t: "s"; i: string; r?: unknown; e?: unknown };

export type EnvelopeCheck =
  | { ok: true; message: RpcEnvelope }
  /** answerId: the request's id when it is usable, so the call can be answered with the error. */
  | { ok: false; reason: string; answerId: string | null };

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function usableId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_RPC_ID_CHARS;
}

/**
 * Checks the shape of one decoded inbound message and returns a fresh envelope holding only
 * birpc's own fields. Arguments must be a real array of at most MAX_RPC_ARGUMENTS; what is
 * inside them is the contract schemas' business.
 */
export function checkRpcEnvelope(message: unknown): EnvelopeCheck {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return { ok: false, reason: "an RPC message is an object", answerId: null };
  }
  const { t, i, m, a, o, r, e } = message as Record<string, unknown>;
  if (i !== undefined && !usableId(i)) {
    return { ok: false, reason: `an RPC id is a string of 1 to ${MAX_RPC_ID_CHARS} characters`, answerId: null };
  }
  if (t === "s") {
    if (i === undefined) return { ok: false, reason: "an RPC answer has an id", answerId: null };
    return { ok: true, message: { t, i, ...(r === undefined ? {} : { r }), ...(e === undefined ? {} : { e }) } };
  }
  if (t !== "q") return { ok: false, reason: 'an RPC message is a request ("q") or an answer ("s")', answerId: null };
  const answerId = i ?? null;
  if (typeof m !== "string" || m.length > MAX_RPC_METHOD_CHARS || !METHOD_NAME.test(m)) {
    return { ok: false, reason: "there is no method by that name", answerId };
  }
  if (!Array.isArray(a)) return { ok: false, reason: `the arguments of ${m} are not a list`, answerId };
  if (a.length > MAX_RPC_ARGUMENTS) return { ok: false, reason: `${m} takes at most ${MAX_RPC_ARGUMENTS} arguments`, answerId };
  if (o !== undefined && typeof o !== "boolean") return { ok: false, reason: "the optional flag is true or false", answerId };
  return { ok: true, message: { t, m, a, ...(i === undefined ? {} : { i }), ...(o === undefined ? {} : { o }) } };
}
