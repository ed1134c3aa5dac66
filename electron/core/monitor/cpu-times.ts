// CPU busy fractions from cumulative time counters: Linux's /proc/stat, or os.cpus() elsewhere.
// Pure: readings in, fractions out. The counters are cumulative, so a fraction is always the
// difference of two readings; a counter that wrapped or went backwards (a core taken offline
// and back, a virtual machine restored) gives no fraction for that interval rather than a
// negative or NaN one.

import type { CpuInfo } from "node:os";

/** Cumulative busy and idle time of one CPU (or all together), in the source's own unit. */
export interface CpuCounter {
  busy: number;
  idle: number;
}

export interface CpuTimes {
  total: CpuCounter;
  /** By logical core, in the order the source lists them. */
  perCore: CpuCounter[];
}

/**
 * Parses /proc/stat's "cpu" lines (clock ticks): user nice system idle iowait irq softirq
 * steal guest guest_nice. Idle is idle + iowait (a core waiting on a disk could run other
 * work); busy is the rest except guest and guest_nice, which the kernel already counts
 * inside user and nice. Returns null when the text has no aggregate "cpu" line.
 */
export function parseProcStat(text: string): CpuTimes | null {
  let total: CpuCounter | null = null;
  const perCore: CpuCounter[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const fields = line.trim().split(/\s+/);
    const label = fields[0] ?? "";
    const values = fields.slice(1, 9).map(Number);
    if (values.length < 4 || values.some((value) => !Number.isFinite(value) || value < 0)) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
    const counter = { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
    if (label === "cpu") total = counter;
    else if (/^cpu\d+$/.test(label)) perCore.push(counter);
  }
  return total ? { total, perCore } : null;
}

/** The same counters from os.cpus() (milliseconds), for macOS and Windows. */
export function cpuTimesFromOs(cpus: readonly CpuInfo[]): CpuTimes | null {
  if (cpus.length === 0) return null;
  const perCore = cpus.map(({ times }) => ({ busy: times.user + times.nice + times.sys + times.irq, idle: times.idle }));
  const total = perCore.reduce((sum, core) => ({ busy: sum.busy + core.busy, idle: sum.idle + core.idle }), { busy: 0, idle: 0 });
  return { total, perCore };
}

/** Busy fraction 0..1 between two readings of one counter; null when the interval is unusable. */
export function busyFraction(previous: CpuCounter, next: CpuCounter): number | null {
  const busy = next.busy - previous.busy;
  const idle = next.idle - previous.idle;
  if (!Number.isFinite(busy) || !Number.isFinite(idle) || busy < 0 || idle < 0) return null;
  const elapsed = busy + idle;
  if (elapsed <= 0) return null; // no tick passed: nothing to say about this interval
  return Math.min(1, busy / elapsed);
}

export interface CpuFractions {
  /** null when the aggregate counters went backwards or did not move. */
  total: number | null;
  /** null when the core count changed or any core's counters are unusable this interval. */
  perCore: number[] | null;
}

export function cpuFractions(previous: CpuTimes, next: CpuTimes): CpuFractions {
  const total = busyFraction(previous.total, next.total);
  let perCore: number[] | null = null;
  if (previous.perCore.length === next.perCore.length && next.perCore.length > 0) {
    const fractions: number[] = [];
    for (let index = 0; index < next.perCore.length; index += 1) {
      const before = previous.perCore[index];
      const after = next.perCore[index];
      const fraction = before && after ? busyFraction(before, after) : null;
      if (fraction === null) {
        fractions.length = 0;
        break;
      }
      fractions.push(fraction);
    }
    if (fractions.length === next.perCore.length) perCore = fractions;
  }
  return { total, perCore };
}
