// Several saved runs seen together: one row per variant of every run (keyed by run and file,
// since two runs measure the same files), and labels that tell the runs apart.

import type { LabRun, QuantVariantResult } from "../api/index.js";

export interface RunRow {
  /** Unique across runs: the run's id and the variant's file. */
  key: string;
  /** Index of the run in the list given. */
  run: number;
  variant: QuantVariantResult;
}

/** Quanta's own evaluation texts: their titles are translated, a user's are shown as written. */
export const BUILTIN_TEXTS: ReadonlySet<string> = new Set(["mixed", "english-prose", "chinese-prose", "code", "dialogue"]);

/** Every variant of every run, run by run, each run's own order kept. */
export function runRows(runs: readonly LabRun[]): RunRow[] {
  return runs.flatMap((run, index) => run.variants.map((variant) => ({ key: `${run.id}/${variant.fileName}`, run: index, variant })));
}

/** True when the runs were measured on more than one machine (then the machine is part of each label). */
export function machinesDiffer(runs: readonly LabRun[]): boolean {
  const machine = (run: LabRun): string => `${run.machine.cpu}|${run.machine.gpu ?? ""}`;
  return new Set(runs.map(machine)).size > 1;
}

/** Makes labels unique by numbering repeats ("label", "label (2)"), so no two series share a name. */
export function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    return count === 1 ? label : `${label} (${count})`;
  });
}

/** A chart colour per run (the four chart colours, then again). */
export function runColor(index: number): string {
  return `--chart-${(index % 4) + 1}`;
}
