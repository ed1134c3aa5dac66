// Reading a request body with a size limit, and writing JSON answers.

import type http from "node:http";
import { ApiError } from "./errors.js";

/** Larger than any prompt that fits a context window, small enough that no client can exhaust memory. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Past this, a too-large body is not even drained: the connection is cut. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * The body as JSON: 413 past the limit, 400 when it does not parse. A too-large body is read
 * to its end and thrown away (so the client gets to read the 413), up to a hard cap.
 */
export function readJsonBody(request: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new ApiError(413, `The request body is larger than the limit of ${limit} bytes.`, null, "request_too_large");
    const declared = Number(request.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES && !settled) {
        settled = true;
        reject(tooLarge());
        request.destroy();
        return;
      }
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on("error", (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    request.on("end", () => {
      if (settled) return;
      settled = true;
      if (size > limit) {
        reject(tooLarge());
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") {
        reject(new ApiError(400, "The request body is empty; it must be a JSON object."));
        return;
      }
      try {
        resolve(JSON.parse(text) as unknown);
      } catch (error) {
        reject(new ApiError(400, `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`));
      }
    });
  });
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  response.end(text);
}
