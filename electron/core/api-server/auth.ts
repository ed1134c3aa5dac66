// The API key: "Authorization: Bearer KEY" (OpenAI's clients) or "x-api-key: KEY"
// (Anthropic's). Required on any bind that is not loopback, and on loopback when asked.

import { timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { randomBytes } from "node:crypto";
import { ApiError } from "./errors.js";
import { isLoopbackHost } from "../net/host-check.js";

export function generateApiKey(): string {
  return `qk-${randomBytes(24).toString("base64url")}`;
}

function presentedKey(request: http.IncomingMessage): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1]) return match[1].trim();
  }
  const header = request.headers["x-api-key"];
  return typeof header === "string" && header !== "" ? header.trim() : null;
}

function sameKey(given: string, key: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function keyRequired(settings: { host: string; requireKeyOnLoopback: boolean }): boolean {
  return !isLoopbackHost(settings.host) || settings.requireKeyOnLoopback;
}

/** Throws a 401 when a key is required and missing or wrong. Without a requirement any key passes (clients send placeholders). */
export function checkApiKey(
  request: http.IncomingMessage,
  settings: { host: string; requireKeyOnLoopback: boolean; apiKey: string },
): void {
  if (!keyRequired(settings)) return;
  const given = presentedKey(request);
  if (given === null) {
    throw new ApiError(
      401,
      'An API key is required: send it as "Authorization: Bearer KEY" (or "x-api-key: KEY"). It is shown in Quanta\'s Server view.',
      null,
      "missing_api_key",
    );
  }
  if (!sameKey(given, settings.apiKey))
    throw new ApiError(401, "The API key is wrong. The current key is shown in Quanta's Server view.", null, "invalid_api_key");
}
