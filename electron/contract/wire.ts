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
      const wire = isWireError(carrier.e)
        ? carrier.e
        : toWireError(carrier.e, "internal");
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
