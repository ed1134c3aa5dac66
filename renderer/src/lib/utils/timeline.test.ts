// Timeline against a plain model of the window: every column stays aligned with the times,
// peaks match a full scan, and dead rows are cut off (the window holds minutes of samples).

import { describe, expect, it } from "vitest";
import { Timeline } from "./timeline.js";

interface Row {
  t: number;
  a: number | null;
  b: number | null;
  late: number | null;
}

/** A fixed pseudo-random sequence, so a failure repeats. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe("timeline", () => {
  it("keeps columns aligned and peaks exact through appends, gaps, new columns and trims", () => {
    for (const seed of [1, 7, 42]) {
      const next = random(seed);
      const timeline = new Timeline(["a", "b"]);
      const model: Row[] = [];
      const windowS = 60 + Math.floor(next() * 120);
      let t = 1_000;
      for (let i = 0; i < 4_000; i += 1) {
        t += 0.25 + next() * 2;
        if (next() < 0.02) {
          timeline.appendGap(t);
          model.push({ t, a: null, b: null, late: null });
          t += 1;
        }
        const row: Row = { t, a: next() < 0.1 ? null : Math.floor(next() * 1000), b: next() * 50, late: null };
        const values: [string, number | null][] = [
          ["a", row.a],
          ["b", row.b],
        ];
        // A reading that appears part-way (a GPU found later) and is sometimes absent.
        if (i > 100 && next() < 0.7) {
          row.late = next();
          values.push(["late", row.late]);
        }
        timeline.append(t, values);
        model.push(row);
        timeline.trim(t - windowS);

        const live = model.filter((entry) => entry.t >= t - windowS);
        expect(timeline.times.slice(timeline.head)).toEqual(live.map((entry) => entry.t));
        for (const key of ["a", "b", "late"] as const) {
          expect(timeline.column(key).slice(timeline.head)).toEqual(live.map((entry) => entry[key]));
        }
        for (const key of ["a", "b"] as const) {
          const values = live.map((entry) => entry[key]).filter((value) => value !== null);
          expect(timeline.peak(key)).toBe(values.length > 0 ? Math.max(...values) : null);
        }
        expect(timeline.first).toBe(live[0]?.t);
        expect(timeline.last).toBe(t);
      }
      // Dead rows are cut off once they are half the arrays: never more than about twice the window.
      expect(timeline.times.length).toBeLessThan(2 * (windowS / 0.25) + 300);
    }
  });
});
