// Words an error from the core in the user's language: by its code, and where the core gave a
// `reason` with parameters, by the more precise error.<code>.<reason> wording with the figures
// formatted here. The core's English message is shown only in English, or for a code this
// renderer does not know (a newer core).

import { isErrorCode, type ErrorCode } from "../api/contract.js";
import { settings } from "../stores/settings.svelte.js";
import { en, type MessageKey } from "./en.js";
import { groupLongNumbers } from "../utils/numbers-in-text.js";
import { formatBytes, formatNumber, t } from "./index.js";

/** Anything that may describe an error: a thrown QuantaError, a WireError kept in a record. */
export interface ErrorLike {
  code?: unknown;
  message?: unknown;
  params?: unknown;
}

const isKey = (key: string): key is MessageKey => Object.hasOwn(en, key);

/** The key that words this code, always present in both dictionaries (a test checks every code). */
export function errorKey(code: ErrorCode): MessageKey {
  return `error.${code}`;
}

function paramsOf(value: unknown): Record<string, string | number> {
  if (typeof value !== "object" || value === null) return {};
  const out: Record<string, string | number> = {};
  for (const [name, item] of Object.entries(value)) {
    // Sizes come in bytes: worded with the app's one unit convention.
    if (typeof item === "number") out[name] = /Bytes$/.test(name) ? formatBytes(item) : item;
    else if (typeof item === "string") out[name] = item;
  }
  return out;
}

export function errorText(error: ErrorLike | null | undefined): string {
  const code = error?.code;
  const message = typeof error?.message === "string" && error.message.trim() !== "" ? error.message : null;
  if (!isErrorCode(code)) return message === null ? t("notice.unknown") : groupLongNumbers(message, formatNumber);
  const params = paramsOf(error?.params);
  const reason = typeof params.reason === "string" ? `error.${code}.${params.reason}` : null;
  if (reason !== null && isKey(reason)) {
    const needed = [...en[reason].matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? "");
    if (needed.every((name) => name in params)) return t(reason, params);
  }
  // English has the core's own, more detailed sentence; other languages the code's wording.
  if (settings.language === "en" && message !== null) return groupLongNumbers(message, formatNumber);
  return t(errorKey(code));
}
