// The CSV export: one row per sample, a column per core and per GPU seen, and an empty cell
// (never a zero) where a reading was missing.

import { describe, expect, it } from "vitest";
import type { HardwareSample } from "../api/contract.js";
import { samplesToCsv } from "./monitor-csv.js";

function sample(at: number, overrides: Partial<HardwareSample> = {}): HardwareSample {
  return {
    at,
    cpu: { total: 0.25, perCore: [0.5, 0] },
    memory: { usedBytes: 4e9, totalBytes: 16e9, swapUsedBytes: 0, swapTotalBytes: 2e9 },
    gpus: [],
    processes: [
      { role: "core", pid: 10, cpu: 0.02, rssBytes: 60e6 },
      { role: "engine", pid: 11, cpu: 1.5, rssBytes: 140e6 },
    ],
    model: null,
    generation: null,
    missing: [],
    ...overrides,
  };
}

describe("monitor CSV", () => {
  it("writes a header and one row per sample, with gaps as empty cells", () => {
    const gpu = { index: 0, name: "RTX", utilization: 0.9, temperatureC: 61, vramUsedBytes: 3e9, vramTotalBytes: 8e9 };
    const csv = samplesToCsv([
      sample(Date.UTC(2025, 0, 1, 12, 0, 0)),
      sample(Date.UTC(2025, 0, 1, 12, 0, 1), {
        cpu: null,
        gpus: [gpu],
        processes: [{ role: "core", pid: 10, cpu: 0.03, rssBytes: 61e6 }],
        generation: {
          chatId: "c",
          messageId: "m",
          generatedTokens: 12,
          tokensPerSecond: 31.25,
          timeToFirstTokenMs: 40,
          contextUsed: 120,
          contextSize: 2048,
        },
      }),
    ]);
    const [header, first, second, ...rest] = csv.trimEnd().split("\r\n");
    expect(rest).toEqual([]);
    expect(header).toBe(
      "time,cpu_percent,cpu_core0_percent,cpu_core1_percent,ram_used_bytes,ram_total_bytes,swap_used_bytes,swap_total_bytes," +
        "gpu0_vram_used_bytes,gpu0_vram_total_bytes,gpu0_utilization_percent,gpu0_temperature_c," +
        "tokens_per_second,context_used,context_size,engine_cpu_percent,engine_rss_bytes,core_cpu_percent,core_rss_bytes",
    );
    expect(first).toBe("2025-01-01T12:00:00.000Z,25,50,0,4000000000,16000000000,0,2000000000,,,,,0,,,150,140000000,2,60000000");
    expect(second).toBe(
      "2025-01-01T12:00:01.000Z,,,,4000000000,16000000000,0,2000000000,3000000000,8000000000,90,61,31.25,120,2048,,,3,61000000",
    );
  });
});
