// The recorded window as CSV: one row per hardware sample, one column per reading. Column
// names are fixed English identifiers (a data file, read by scripts), and a reading the
// machine did not give is an empty cell, never a zero.

import type { HardwareSample, ProcessReading } from "../api/index.js";

type Cell = number | string | null | undefined;

function percent(fraction: number | null | undefined): Cell {
  return fraction === null || fraction === undefined ? null : round(fraction * 100, 2);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function cell(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function process(sample: HardwareSample, role: ProcessReading["role"]): ProcessReading | undefined {
  return sample.processes.find((reading) => reading.role === role);
}

export function samplesToCsv(samples: readonly HardwareSample[]): string {
  // The widest sample decides the columns: a core count or a GPU seen once gets its column.
  const cores = Math.max(0, ...samples.map((sample) => sample.cpu?.perCore.length ?? 0));
  const gpus = [...new Set(samples.flatMap((sample) => sample.gpus.map((gpu) => gpu.index)))].sort((a, b) => a - b);

  const header = [
    "time",
    "cpu_percent",
    ...Array.from({ length: cores }, (_, core) => `cpu_core${core}_percent`),
    "ram_used_bytes",
    "ram_total_bytes",
    "swap_used_bytes",
    "swap_total_bytes",
    ...gpus.flatMap((index) => [
      `gpu${index}_vram_used_bytes`,
      `gpu${index}_vram_total_bytes`,
      `gpu${index}_utilization_percent`,
      `gpu${index}_temperature_c`,
    ]),
    "tokens_per_second",
    "context_used",
    "context_size",
    "engine_cpu_percent",
    "engine_rss_bytes",
    "core_cpu_percent",
    "core_rss_bytes",
  ];

  const rows = samples.map((sample) => {
    const engine = process(sample, "engine");
    const core = process(sample, "core");
    const cells: Cell[] = [
      new Date(sample.at).toISOString(),
      percent(sample.cpu?.total),
      ...Array.from({ length: cores }, (_, index) => percent(sample.cpu?.perCore[index])),
      sample.memory?.usedBytes,
      sample.memory?.totalBytes,
      sample.memory?.swapUsedBytes,
      sample.memory?.swapTotalBytes,
      ...gpus.flatMap((index) => {
        const gpu = sample.gpus.find((reading) => reading.index === index);
        return [gpu?.vramUsedBytes, gpu?.vramTotalBytes, percent(gpu?.utilization), gpu?.temperatureC];
      }),
      round(sample.generation?.tokensPerSecond ?? 0, 2),
      sample.generation?.contextUsed,
      sample.generation?.contextSize,
      percent(engine?.cpu),
      engine?.rssBytes,
      percent(core?.cpu),
      core?.rssBytes,
    ];
    return cells.map(cell).join(",");
  });

  return [header.join(","), ...rows].join("\r\n") + "\r\n";
}
