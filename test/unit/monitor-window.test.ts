// The monitor's memory and rates: the 10-minute ring buffer, sharing unchanged parts of
// samples, tokens per second over the last second, and a process's CPU share.

import { describe, expect, it } from "vitest";
import { ProcessCpuRate, TokenRate } from "../../electron/core/monitor/rates.js";
import { shareUnchanged, TimeWindow } from "../../electron/core/monitor/time-window.js";

describe("the time window (ring buffer)", () => {
  it("evicts items older than the window as new ones arrive", () => {
    const window = new TimeWindow<{ at: number }>(1000, 100);
    for (let at = 0; at <= 3000; at += 250) window.push({ at });
    expect(window.toArray(3000).map((item) => item.at)).toEqual([2000, 2250, 2500, 2750, 3000]);
    expect(window.latest?.at).toBe(3000);
  });

  it("evicts by the reader's clock too, when nothing new arrived", () => {
    const window = new TimeWindow<{ at: number }>(1000, 100);
    window.push({ at: 0 });
    window.push({ at: 500 });
    expect(window.toArray(1200).map((item) => item.at)).toEqual([500]);
    expect(window.toArray(5000)).toEqual([]);
    expect(window.size).toBe(0);
  });

  it("never holds more than its capacity, dropping the oldest", () => {
    const window = new TimeWindow<{ at: number }>(10 * 60 * 1000, 2401);
    for (let index = 0; index < 5000; index += 1) window.push({ at: 1_000_000 + index });
    expect(window.size).toBe(2401);
    const items = window.toArray(1_000_000 + 5000);
    expect(items[0]?.at).toBe(1_000_000 + 5000 - 2401);
    expect(items.at(-1)?.at).toBe(1_000_000 + 4999);
  });

  it("holds ten minutes at 4 Hz: 2400 samples", () => {
    const window = new TimeWindow<{ at: number }>(600_000, 2401);
    for (let at = 0; at <= 1_200_000; at += 250) window.push({ at });
    expect(window.toArray(1_200_000)).toHaveLength(2401);
  });

  it("shares equal parts with the previous sample", () => {
    const previous = [{ what: "gpu", reason: "no nvidia-smi" }];
    const same = [{ what: "gpu", reason: "no nvidia-smi" }];
    const other = [{ what: "gpu", reason: "something else" }];
    expect(shareUnchanged(previous, same)).toBe(previous);
    expect(shareUnchanged(previous, other)).toBe(other);
    expect(shareUnchanged(undefined, same)).toBe(same);
    expect(shareUnchanged<{ a: number } | null>({ a: 1 }, null)).toBeNull();
  });
});

describe("tokens per second", () => {
  it("is 0 before two points, then measures over about the last second", () => {
    const rate = new TokenRate();
    expect(rate.perSecond(0)).toBe(0);
    rate.add(1000, 1); // the first token, after the prompt
    expect(rate.perSecond(1000)).toBe(0);
    // 50 tokens a second from then on, a delta every 20 ms
    for (let at = 1020, tokens = 2; at <= 4000; at += 20, tokens += 1) rate.add(at, tokens);
    expect(rate.perSecond(4000)).toBeCloseTo(50, 5);
  });

  it("follows a change of speed within about a second", () => {
    const rate = new TokenRate();
    let tokens = 0;
    let at = 0;
    for (; at < 3000; at += 10) rate.add(at, (tokens += 1)); // 100 tok/s
    for (const end = at + 2000; at < end; at += 100) rate.add(at, (tokens += 1)); // 10 tok/s
    expect(rate.perSecond(at)).toBeCloseTo(10, 0);
  });

  it("measures from the first token's time, so prompt time is never counted", () => {
    const rate = new TokenRate();
    rate.add(5000, 1); // first token after a 5 s prompt
    rate.add(5100, 11);
    expect(rate.perSecond(5100)).toBeCloseTo(100, 5);
  });

  it("drops to 0 after a stall, and starts over when the count goes back (a new reply)", () => {
    const rate = new TokenRate();
    rate.add(0, 1);
    rate.add(1000, 101);
    expect(rate.perSecond(1000)).toBeCloseTo(100, 5);
    expect(rate.perSecond(7000)).toBe(0);
    rate.add(8000, 1);
    expect(rate.perSecond(8000)).toBe(0);
  });
});

describe("a process's CPU share", () => {
  it("is CPU time over wall time, as a fraction of one core (may exceed 1)", () => {
    const rate = new ProcessCpuRate();
    expect(rate.update(42, 1_000_000, 0)).toBeNull();
    expect(rate.update(42, 1_500_000, 1000)).toBeCloseTo(0.5, 10);
    expect(rate.update(42, 3_500_000, 2000)).toBeCloseTo(2, 10);
  });

  it("starts over for a new process (a restarted engine) and skips a counter that went back", () => {
    const rate = new ProcessCpuRate();
    rate.update(42, 9_000_000, 0);
    expect(rate.update(43, 100_000, 1000)).toBeNull();
    expect(rate.update(43, 50_000, 2000)).toBeNull();
    expect(rate.update(43, 60_000, 2000)).toBeNull(); // no time passed
  });
});
