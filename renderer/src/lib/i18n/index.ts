// Translation and locale-aware formatting. Every visible string goes through t(); reading
// settings.language inside it makes each caller re-render when the language changes.

import { settings } from "../stores/settings.svelte.js";
import { en, type MessageKey } from "./en.js";
import type { Language } from "./languages.js";
import { zhCN } from "./zh-CN.js";
import { scaleBytes } from "../utils/units.js";

export type { MessageKey } from "./en.js";
export { LANGUAGES, type Language } from "./languages.js";

const dictionaries: Record<Language, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

type Params = Readonly<Record<string, string | number>>;

/** Keys that come in .one/.other pairs, named without the suffix. */
export type PluralKey = { [K in MessageKey]: K extends `${infer Base}.one` ? Base : never }[MessageKey];

function fill(text: string, params: Params | undefined): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (match, name: string) => {
    const value = params[name];
    return value === undefined ? match : typeof value === "number" ? formatNumber(value) : value;
  });
}

export function t(key: MessageKey, params?: Params): string {
  return fill(dictionaries[settings.language][key], params);
}

/** A count with its noun, in the plural form the language needs; {count} is the number. */
export function tn(key: PluralKey, count: number, params?: Params): string {
  const form = new Intl.PluralRules(settings.language).select(count) === "one" ? "one" : "other";
  return fill(dictionaries[settings.language][`${key}.${form}`], { ...params, count });
}

export function formatNumber(value: number, maximumFractionDigits = 0): string {
  return new Intl.NumberFormat(settings.language, { maximumFractionDigits }).format(value);
}

/** A speed or rate: one decimal below 100, none above, so the figure stays readable. */
export function formatRate(value: number): string {
  return formatNumber(value, value < 100 ? 1 : 0);
}

/** A size in the app's one convention, binary units (utils/units.ts): "380 KiB", "1.2 GiB". */
export function formatBytes(bytes: number): string {
  const { value, unit, digits } = scaleBytes(bytes);
  return `${formatNumber(value, digits)} ${unit}`;
}

/** A size that may not be available: the figure, or the words saying it is not. */
export function formatBytesOr(bytes: number | null, missing: string): string {
  return bytes === null ? missing : formatBytes(bytes);
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(settings.language, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A fraction (0.23) as a percentage ("23%", or "23 %" where the language spaces it). */
export function formatPercent(fraction: number, maximumFractionDigits = 0): string {
  return new Intl.NumberFormat(settings.language, { style: "percent", maximumFractionDigits }).format(fraction);
}

/** A large count, shortened the language's way: "260K", "7.2B"; "26万", "72亿". */
export function formatCompact(value: number): string {
  return new Intl.NumberFormat(settings.language, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** An amount of arithmetic with its SI prefix: "520 kFLOP", "14 GFLOP". */
export function formatFlops(flops: number): string {
  const prefixes = ["", "k", "M", "G", "T", "P"] as const;
  let value = flops;
  let prefix = 0;
  while (value >= 1000 && prefix < prefixes.length - 1) {
    value /= 1000;
    prefix += 1;
  }
  return `${formatNumber(value, value < 10 ? 2 : value < 100 ? 1 : 0)} ${prefixes[prefix] ?? ""}FLOP`;
}

/** A length of time under an hour or so: "45 s", "3 min 20 s". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes === 0) return t("unit.durationSeconds", { seconds });
  return seconds === 0 ? t("unit.durationWholeMinutes", { minutes }) : t("unit.durationMinutes", { minutes, seconds });
}

/** A time of day to the second, for chart axes and event lists. */
export function formatClock(ms: number): string {
  return new Intl.DateTimeFormat(settings.language, { hour: "numeric", minute: "2-digit", second: "2-digit" }).format(ms);
}

/** A figure to three significant digits, for quantities that span orders of magnitude. */
export function formatSignificant(value: number): string {
  return new Intl.NumberFormat(settings.language, { maximumSignificantDigits: 3 }).format(value);
}
