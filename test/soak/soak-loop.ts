// What every loop of the fault suite is: a bounded run that stops by itself and reports a few
// figures and a verdict. `npm run soak` runs each (run.ts); a short version of each runs in
// `npm test` (test/integration/soak-short.test.ts and the other suites' own tests).

export interface SoakResult {
  /** The loop's row in the table. */
  name: string;
  /** What was measured, by name; a loop that could not run says why under "skipped". */
  figures: Record<string, number | string>;
  ok: boolean;
}

/** `iterations` is the loop's own unit (replies, kills, seconds): each loop's header says which. */
export type SoakLoop = (options: { iterations: number }) => Promise<SoakResult>;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A random whole number of milliseconds in [low, high). */
export function between(low: number, high: number): number {
  return Math.floor(low + Math.random() * (high - low));
}
