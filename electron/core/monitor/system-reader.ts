// Reads the machine's CPU and memory use: /proc/stat and /proc/meminfo on Linux, os.cpus()
// and os.totalmem()/freemem() elsewhere. Keeps the previous CPU counters, because a busy
// fraction is the difference of two readings. The parsing lives in cpu-times.ts and meminfo.ts.
//
// The /proc files are read synchronously: they are generated from kernel memory, never wait on
// a disk, and a synchronous read of both costs about 90 µs of CPU against about 460 µs for
// fs.promises.readFile (open, stat, read and close each a trip through the thread pool), which
// would be most of the monitor's own cost.

import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HardwareSample, MissingReading } from "../../contract/types.js";
import { cpuFractions, cpuTimesFromOs, parseProcStat, type CpuTimes } from "./cpu-times.js";
import { parseMeminfo, type MemoryInfo } from "./meminfo.js";

export interface SystemReading {
  cpu: HardwareSample["cpu"];
  memory: HardwareSample["memory"];
  missing: MissingReading[];
}

export interface SystemReaderOptions {
  /** Where procfs is mounted; null reads through the os module (the default off Linux). */
  procRoot?: string | null;
}

export class SystemReader {
  private readonly procRoot: string | null;
  private previous: CpuTimes | null = null;

  constructor(options: SystemReaderOptions = {}) {
    this.procRoot = options.procRoot !== undefined ? options.procRoot : process.platform === "linux" ? "/proc" : null;
  }

  /** Forgets the previous counters and takes new ones: the next read measures from now. */
  reset(): void {
    this.previous = this.cpuTimes();
  }

  read(): SystemReading {
    const missing: MissingReading[] = [];
    const times = this.cpuTimes();
    const memory = this.memoryInfo();

    let cpu: SystemReading["cpu"] = null;
    if (!times) {
      missing.push({ what: "cpu", reason: "cpu: the operating system gave no CPU time counters" });
    } else if (!this.previous) {
      missing.push({ what: "cpu", reason: "cpu: first reading; CPU use is measured between two samples" });
    } else {
      const fractions = cpuFractions(this.previous, times);
      if (fractions.total === null) {
        missing.push({ what: "cpu", reason: "cpu: the CPU time counters went backwards or did not move; this interval is skipped" });
      } else {
        cpu = { total: round4(fractions.total), perCore: fractions.perCore?.map(round4) ?? [] };
        if (fractions.perCore === null) {
          missing.push({
            what: "per-core-cpu",
            reason: "per-core-cpu: the number of cores changed or a core's counters went backwards; this interval is skipped",
          });
        }
      }
    }
    if (times) this.previous = times;

    if (!memory) {
      missing.push({ what: "memory", reason: "memory: the operating system gave no memory figures" });
      return { cpu, memory: null, missing };
    }
    if (memory.swapTotalBytes === null) {
      missing.push({
        what: "swap",
        reason: `swap: not read on ${os.platform()} (Quanta reads swap from /proc/meminfo, on Linux)`,
      });
    }
    return {
      cpu,
      memory: {
        usedBytes: memory.usedBytes,
        totalBytes: memory.totalBytes,
        swapUsedBytes: memory.swapUsedBytes,
        swapTotalBytes: memory.swapTotalBytes,
      },
      missing,
    };
  }

  private cpuTimes(): CpuTimes | null {
    if (this.procRoot !== null) {
      const parsed = parseProcStat(readProc(this.procRoot, "stat"));
      if (parsed) return parsed;
    }
    return cpuTimesFromOs(os.cpus());
  }

  private memoryInfo(): MemoryInfo | null {
    if (this.procRoot !== null) {
      const parsed = parseMeminfo(readProc(this.procRoot, "meminfo"));
      if (parsed) return parsed;
    }
    const total = os.totalmem();
    if (total <= 0) return null;
    return { totalBytes: total, usedBytes: Math.max(0, total - os.freemem()), swapTotalBytes: null, swapUsedBytes: null };
  }
}

/** A procfs file's text; "" when it cannot be read (a sandbox without /proc), so the os module is used. */
function readProc(root: string, name: string): string {
  try {
    return readFileSync(path.join(root, name), "latin1");
  } catch {
    return "";
  }
}

/** Fractions are sent to the renderer and kept for 10 minutes: four decimals are plenty. */
export function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
