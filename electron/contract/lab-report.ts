// A comparison run as a report: Markdown and CSV, the same from the CLI and the Lab view.
// Pure TypeScript (the renderer imports it).

import { engineBuildText } from "./engine-build.js";
import type { LabRun, QuantVariantResult } from "./types.js";

const MIB = 1024 * 1024;

interface Column {
  title: string;
  value: (variant: QuantVariantResult) => string;
}

const fixed =
  (digits: number) =>
  (value: number | null | undefined): string =>
    value === null || value === undefined || !Number.isFinite(value) ? "" : value.toFixed(digits);

/** What a speed not measured (a "quality only" run) reads as in every report: never 0, never blank. */
export const NOT_MEASURED = "not measured";

const speed = (value: number | null): string => (value === null ? NOT_MEASURED : fixed(1)(value));

/** Every figure of a variant, in the order the table and the files show them. */
export const REPORT_COLUMNS: readonly Column[] = [
  { title: "variant", value: (v) => v.fileName },
  { title: "type", value: (v) => v.fileType },
  { title: "size MiB", value: (v) => fixed(1)(v.sizeBytes / MIB) },
  { title: "bits/weight", value: (v) => fixed(2)(v.bitsPerWeight) },
  { title: "PPL", value: (v) => fixed(4)(v.perplexity) },
  { title: "PPL ratio", value: (v) => fixed(4)(v.perplexityRatio) },
  { title: "mean KLD", value: (v) => fixed(6)(v.kld?.mean) },
  { title: "median KLD", value: (v) => fixed(6)(v.kld?.median) },
  { title: "p99 KLD", value: (v) => fixed(6)(v.kld?.p99) },
  { title: "max KLD", value: (v) => fixed(6)(v.kld?.max) },
  { title: "same top %", value: (v) => (v.sameTopRate === null ? "" : fixed(2)(v.sameTopRate * 100)) },
  { title: "pp tok/s", value: (v) => speed(v.promptTokensPerSecond) },
  { title: "tg tok/s", value: (v) => speed(v.generationTokensPerSecond) },
  { title: "load ms", value: (v) => String(Math.round(v.loadMs)) },
  { title: "RAM MiB", value: (v) => (v.ramBytes === null ? "" : fixed(1)(v.ramBytes / MIB)) },
  { title: "VRAM MiB", value: (v) => (v.vramBytes === null ? "" : fixed(1)(v.vramBytes / MIB)) },
  { title: "threads", value: (v) => String(v.threads) },
  { title: "recipe", value: (v) => v.recipe ?? "" },
];

/**
 * What a mixed precision recipe buys over its base type in the same run: the bytes it adds,
 * and the change in mean KL divergence and in the same-top-token rate (negative KLD change
 * and positive same-top change are better). Null figures where the run has no plain variant
 * of the base type, or the quality figure is missing.
 */
export interface RecipeGain {
  recipe: QuantVariantResult;
  base: QuantVariantResult;
  addedBytes: number;
  kldChange: number | null;
  sameTopChange: number | null;
}

/** Every recipe variant in the run paired with the plain variant of its base type (general.file_type). */
export function recipeGains(variants: readonly QuantVariantResult[]): RecipeGain[] {
  const gains: RecipeGain[] = [];
  for (const recipe of variants) {
    if (!recipe.recipe) continue;
    const base = variants.find((candidate) => !candidate.recipe && candidate.fileType === recipe.fileType);
    if (!base) continue;
    gains.push({
      recipe,
      base,
      addedBytes: recipe.sizeBytes - base.sizeBytes,
      kldChange: recipe.kld && base.kld ? recipe.kld.mean - base.kld.mean : null,
      sameTopChange: recipe.sameTopRate !== null && base.sameTopRate !== null ? recipe.sameTopRate - base.sameTopRate : null,
    });
  }
  return gains;
}

/** The recipe columns of the CSV and the Markdown section, one row per recipe variant. */
const GAIN_COLUMNS: ReadonlyArray<{ title: string; value: (gain: RecipeGain) => string }> = [
  { title: "recipe adds MiB", value: (g) => fixed(2)(g.addedBytes / MIB) },
  { title: "recipe KLD change", value: (g) => fixed(6)(g.kldChange) },
  { title: "recipe same top change pp", value: (g) => fixed(2)(g.sameTopChange === null ? null : g.sameTopChange * 100) },
];

function recipeSection(run: LabRun, escape: (text: string) => string): string[] {
  const gains = recipeGains(run.variants);
  if (gains.length === 0) return [];
  return [
    "",
    "## Mixed precision recipes",
    "",
    "Output and token-embedding tensors kept at higher precision, against the plain base type in this run.",
    "",
    `| recipe | base | ${GAIN_COLUMNS.map((column) => column.title).join(" | ")} |`,
    `|---|---|${GAIN_COLUMNS.map(() => "---:").join("|")}|`,
    ...gains.map(
      (gain) =>
        `| ${escape(gain.recipe.fileName)} | ${escape(gain.base.fileName)} | ${GAIN_COLUMNS.map((column) => column.value(gain)).join(" | ")} |`,
    ),
  ];
}

function describe(run: LabRun): string {
  const pp = run.variants[0]?.promptTokens ?? null;
  const tg = run.variants[0]?.generatedTokens ?? null;
  const speedAs = pp === null || tg === null ? "speed not measured (quality only)" : `speed as pp${pp} and tg${tg}`;
  return (
    `${run.modelName} (${run.architecture}), text "${run.textTitle}", context ${run.contextSize}, ` +
    `${run.variants[0]?.scoredTokens ?? 0} tokens scored; ${speedAs}; ` +
    `KLD against ${run.variants.find((v) => v.isReference)?.fileName ?? "the reference"}. ` +
    `${run.machine.cpu}, ${run.machine.cores} cores, ${(run.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB` +
    (run.machine.gpu ? `, ${run.machine.gpu}` : "") +
    (run.machine.engineBuild ? `; engine ${engineBuildText(run.machine.engineBuild)}` : "") +
    "."
  );
}

export function runToMarkdown(run: LabRun): string {
  const escape = (text: string): string => text.replaceAll("|", "\\|");
  const lines = [
    `# Quantization comparison: ${escape(run.modelName)}`,
    "",
    escape(describe(run)),
    "",
    `| ${REPORT_COLUMNS.map((column) => column.title).join(" | ")} |`,
    `|${REPORT_COLUMNS.map((_, index) => (index < 2 ? "---" : "---:")).join("|")}|`,
    ...run.variants.map((variant) => `| ${REPORT_COLUMNS.map((column) => escape(column.value(variant))).join(" | ")} |`),
    ...recipeSection(run, escape),
  ];
  if (run.status !== "complete") lines.push("", escape(stoppedLine(run)));
  return `${lines.join("\n")}\n`;
}

export function runToCsv(run: LabRun): string {
  const cell = (text: string): string => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const gains = new Map(recipeGains(run.variants).map((gain) => [gain.recipe, gain]));
  const gainCells = (v: QuantVariantResult): string[] => {
    const gain = gains.get(v);
    return GAIN_COLUMNS.map((column) => (gain ? cell(column.value(gain)) : ""));
  };
  const rows = [
    [...REPORT_COLUMNS.map((column) => cell(column.title)), ...GAIN_COLUMNS.map((column) => cell(column.title))],
    ...run.variants.map((v) => [...REPORT_COLUMNS.map((column) => cell(column.value(v))), ...gainCells(v)]),
  ];
  return `${rows.map((row) => row.join(",")).join("\n")}\n`;
}

/** Several saved runs in one table: which run each row came from, then every figure. */
export function runsToCsv(runs: readonly LabRun[]): string {
  const cell = (text: string): string => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const runColumns: Array<{ title: string; value: (run: LabRun) => string }> = [
    { title: "run", value: (run) => run.id },
    { title: "model", value: (run) => run.modelName },
    { title: "text", value: (run) => run.textTitle },
    { title: "context", value: (run) => String(run.contextSize) },
    { title: "date", value: (run) => run.createdAt },
    { title: "machine", value: (run) => run.machine.cpu + (run.machine.gpu ? ` + ${run.machine.gpu}` : "") },
  ];
  const header = [...runColumns.map((column) => column.title), ...REPORT_COLUMNS.map((column) => column.title)];
  const rows = runs.flatMap((run) =>
    run.variants.map((v) => [...runColumns.map((column) => column.value(run)), ...REPORT_COLUMNS.map((column) => column.value(v))]),
  );
  return `${[header, ...rows].map((row) => row.map(cell).join(",")).join("\n")}\n`;
}

/** Why a run holds fewer variants than chosen: its status, the file it stopped at, the error. */
function stoppedLine(run: LabRun): string {
  const at = run.failedFile ? ` at ${run.failedFile}` : "";
  return `Run ${run.status}${at}${run.error ? `: ${run.error.message}` : ""}; the variants measured before are shown.`;
}

/** Plain columns for a terminal. */
export function runToText(run: LabRun): string {
  const rows = [REPORT_COLUMNS.map((column) => column.title), ...run.variants.map((v) => REPORT_COLUMNS.map((column) => column.value(v)))];
  const widths = REPORT_COLUMNS.map((_, index) => Math.max(...rows.map((row) => (row[index] ?? "").length)));
  const table = rows.map((row) =>
    row.map((text, index) => (index < 2 ? text.padEnd(widths[index] ?? 0) : text.padStart(widths[index] ?? 0))).join("  "),
  );
  const recipes = recipeGains(run.variants).map(
    (gain) =>
      `${gain.recipe.fileName}: ${GAIN_COLUMNS.map((column) => `${column.title} ${column.value(gain) || "n/a"}`).join(", ")} (against ${gain.base.fileName})`,
  );
  const stopped = run.status === "complete" ? "" : `\n${stoppedLine(run)}\n`;
  return `${describe(run)}\n\n${table.join("\n")}\n${recipes.length > 0 ? `\n${recipes.join("\n")}\n` : ""}${stopped}`;
}
