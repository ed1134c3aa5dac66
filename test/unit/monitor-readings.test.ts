// The hardware monitor's parsers on captured text: /proc/stat, /proc/meminfo, nvidia-smi's CSV
// (including "[N/A]" fields and a GPU that fell off the bus), and counters that wrap or go back.

import type { CpuInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { busyFraction, cpuFractions, cpuTimesFromOs, parseProcStat } from "../../electron/core/monitor/cpu-times.js";
import { parseMeminfo } from "../../electron/core/monitor/meminfo.js";
import { parseNvidiaSmiCsv, parseNvidiaSmiLine } from "../../electron/core/monitor/nvidia-smi.js";

// Captured from the 2-core development machine (the intr line shortened).
const PROC_STAT_1 = `cpu  119159 1426 24976 1621252 1662 0 412 1730 0 0
cpu0 56370 743 11688 815122 320 0 90 849 0 0
cpu1 62788 682 13288 806130 1342 0 322 881 0 0
intr 2194058 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
ctxt 6027072
btime 1763850000
processes 41234
procs_running 2
procs_blocked 0
softirq 1234 0 1 2 3 4 5 6 7 8
`;

// One second later: cpu0 fully busy (100 ticks), cpu1 a quarter busy.
const PROC_STAT_2 = `cpu  119284 1426 24976 1621327 1662 0 412 1730 0 0
cpu0 56470 743 11688 815122 320 0 90 849 0 0
cpu1 62813 682 13288 806205 1342 0 322 881 0 0
intr 2194158 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
ctxt 6028072
`;

const MEMINFO = `MemTotal:       24684084 kB
MemFree:        24330140 kB
MemAvailable:   24323248 kB
Buffers:             940 kB
Cached:            89344 kB
SwapCached:            0 kB
Active:            11368 kB
Active(anon):       1516 kB
SwapTotal:       2097148 kB
SwapFree:        1048576 kB
Zswap:                 0 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`;

describe("/proc/stat", () => {
  it("reads the aggregate line and each core, busy without guest time and idle with iowait", () => {
    const times = parseProcStat(PROC_STAT_1);
    expect(times?.perCore).toHaveLength(2);
    // busy = user + nice + system + irq + softirq + steal; idle = idle + iowait
    expect(times?.total).toEqual({ busy: 119159 + 1426 + 24976 + 0 + 412 + 1730, idle: 1621252 + 1662 });
    expect(times?.perCore[0]).toEqual({ busy: 56370 + 743 + 11688 + 90 + 849, idle: 815122 + 320 });
  });

  it("gives busy fractions between two readings, in total and per core", () => {
    const fractions = cpuFractions(parseProcStat(PROC_STAT_1)!, parseProcStat(PROC_STAT_2)!);
    expect(fractions.perCore).toEqual([1, 0.25]);
    expect(fractions.total).toBeCloseTo(125 / 200, 10);
  });

  it("returns null for text without a cpu line", () => {
    expect(parseProcStat("intr 1 2 3\n")).toBeNull();
    expect(parseProcStat("")).toBeNull();
  });
});

describe("counters that wrap, go backwards or stand still", () => {
  it("skips the interval instead of giving a negative, NaN or >1 fraction", () => {
    expect(busyFraction({ busy: 100, idle: 100 }, { busy: 90, idle: 150 })).toBeNull(); // went backwards
    expect(busyFraction({ busy: 2 ** 32 - 5, idle: 100 }, { busy: 3, idle: 120 })).toBeNull(); // 32-bit wrap
    expect(busyFraction({ busy: 100, idle: 100 }, { busy: 100, idle: 100 })).toBeNull(); // no tick passed
    expect(busyFraction({ busy: 0, idle: 0 }, { busy: 10, idle: 0 })).toBe(1);
    expect(busyFraction({ busy: 0, idle: 0 }, { busy: Number.NaN, idle: 1 })).toBeNull();
  });

  it("keeps the total but drops per-core readings when one core's counters go backwards", () => {
    const before = {
      total: { busy: 10, idle: 10 },
      perCore: [
        { busy: 5, idle: 5 },
        { busy: 5, idle: 5 },
      ],
    };
    const after = {
      total: { busy: 20, idle: 20 },
      perCore: [
        { busy: 10, idle: 10 },
        { busy: 1, idle: 10 },
      ],
    };
    expect(cpuFractions(before, after)).toEqual({ total: 0.5, perCore: null });
  });

  it("drops per-core readings when the number of cores changes (a core taken offline)", () => {
    const before = {
      total: { busy: 10, idle: 10 },
      perCore: [
        { busy: 5, idle: 5 },
        { busy: 5, idle: 5 },
      ],
    };
    const after = { total: { busy: 20, idle: 20 }, perCore: [{ busy: 10, idle: 10 }] };
    expect(cpuFractions(before, after).perCore).toBeNull();
  });

  it("reads os.cpus() times the same way (macOS, Windows)", () => {
    const cpu = (user: number, idle: number): CpuInfo => ({ model: "x", speed: 1, times: { user, nice: 0, sys: 0, idle, irq: 0 } });
    const first = cpuTimesFromOs([cpu(100, 100), cpu(0, 100)])!;
    const second = cpuTimesFromOs([cpu(150, 150), cpu(0, 200)])!;
    expect(cpuFractions(first, second)).toEqual({ total: 0.25, perCore: [0.5, 0] });
    expect(cpuTimesFromOs([])).toBeNull();
  });
});

describe("/proc/meminfo", () => {
  it("counts used memory as MemTotal − MemAvailable, and swap as SwapTotal − SwapFree, in bytes", () => {
    expect(parseMeminfo(MEMINFO)).toEqual({
      totalBytes: 24684084 * 1024,
      usedBytes: (24684084 - 24323248) * 1024,
      swapTotalBytes: 2097148 * 1024,
      swapUsedBytes: (2097148 - 1048576) * 1024,
    });
  });

  it("falls back to free + buffers + cache on kernels without MemAvailable, and reports no swap it cannot see", () => {
    const info = parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n");
    expect(info).toEqual({ totalBytes: 1000 * 1024, usedBytes: 600 * 1024, swapTotalBytes: null, swapUsedBytes: null });
  });

  it("reads a machine without swap as 0 of 0, and garbage as nothing", () => {
    expect(parseMeminfo("MemTotal: 1000 kB\nMemAvailable: 400 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")).toMatchObject({
      swapTotalBytes: 0,
      swapUsedBytes: 0,
    });
    expect(parseMeminfo("no memory here")).toBeNull();
  });
});

describe("nvidia-smi CSV", () => {
  const MIB = 1024 * 1024;

  it("reads each GPU's utilization, temperature and memory", () => {
    const { gpus, missing } = parseNvidiaSmiCsv(
      "0, NVIDIA GeForce RTX 4090, 37, 52, 1234, 24564\n1, NVIDIA H100 80GB HBM3, 100, 71, 80000, 81559\n",
    );
    expect(missing).toEqual([]);
    expect(gpus).toEqual([
      {
        index: 0,
        name: "NVIDIA GeForce RTX 4090",
        utilization: 0.37,
        temperatureC: 52,
        vramUsedBytes: 1234 * MIB,
        vramTotalBytes: 24564 * MIB,
      },
      {
        index: 1,
        name: "NVIDIA H100 80GB HBM3",
        utilization: 1,
        temperatureC: 71,
        vramUsedBytes: 80000 * MIB,
        vramTotalBytes: 81559 * MIB,
      },
    ]);
  });

  it('turns "[N/A]" and "[Not Supported]" fields into null with a reason, never into zero', () => {
    const { gpus, missing } = parseNvidiaSmiCsv("0, Tesla T4, [N/A], [Not Supported], 0, 15360\n");
    expect(gpus[0]).toMatchObject({ utilization: null, temperatureC: null, vramUsedBytes: 0, vramTotalBytes: 15360 * MIB });
    expect(missing.map((item) => item.what)).toEqual(["gpu-utilization", "gpu-temperature"]);
    expect(missing[0]?.reason).toContain("gpu 0 (Tesla T4)");
    expect(missing[0]?.reason).toContain("N/A");
  });

  it("reports a GPU that fell off the bus as missing, with nvidia-smi's words, and keeps the others", () => {
    const { gpus, missing } = parseNvidiaSmiCsv(
      [
        "0, NVIDIA A100-SXM4-40GB, 12, 40, 2048, 40960",
        "Unable to determine the device handle for GPU0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU",
        "2, NVIDIA A100-SXM4-40GB, [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost]",
        "",
      ].join("\n"),
    );
    expect(gpus.map((gpu) => gpu.index)).toEqual([0]);
    expect(missing).toHaveLength(2);
    expect(missing.every((item) => item.what === "gpu")).toBe(true);
    expect(missing[0]?.reason).toContain("GPU is lost. Reboot the system");
    expect(missing[1]?.reason).toContain("gpu 2 (NVIDIA A100-SXM4-40GB): cannot be read: GPU is lost");
  });

  it("keeps a comma in a GPU's name, and reads a driver failure as a message", () => {
    expect(parseNvidiaSmiLine("3, Some GPU, Rev 2, 5, 30, 10, 100")).toMatchObject({
      kind: "gpu",
      reading: { index: 3, name: "Some GPU, Rev 2" },
    });
    const failed = parseNvidiaSmiCsv(
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
    );
    expect(failed.gpus).toEqual([]);
    expect(failed.missing[0]?.reason).toMatch(/^gpu: nvidia-smi says: NVIDIA-SMI has failed/);
    expect(parseNvidiaSmiCsv("No devices were found\n").missing[0]?.reason).toContain("No devices were found");
  });
});
