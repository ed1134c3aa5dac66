// Parses the output of
//   nvidia-smi --query-gpu=index,name,utilization.gpu,temperature.gpu,memory.used,memory.total
//              --format=csv,noheader,nounits
// one line per GPU: "0, NVIDIA GeForce RTX 4090, 37, 52, 1234, 24564" (percent, °C, MiB).
// Pure: text in, readings out. A field the driver does not expose reads "[N/A]" (older drivers:
// "[Not Supported]") and becomes null with a MissingReading; a GPU that fell off the bus shows
// as an error line ("Unable to determine the device handle for GPU0000:3B:00.0: GPU is lost…")
// or as error fields ("[GPU is lost]", "[Unknown Error]") and is reported missing, never as zeros.

import type { GpuReading, MissingReading } from "../../contract/types.js";

export const NVIDIA_SMI_QUERY = [
  "--query-gpu=index,name,utilization.gpu,temperature.gpu,memory.used,memory.total",
  "--format=csv,noheader,nounits",
] as const;

const MIB = 1024 * 1024;

/** Field values that mean the GPU itself cannot be read (as opposed to one unsupported field). */
const GPU_FAILURE = /gpu is lost|requires reset|unknown error|not found|unable to/i;

export type NvidiaSmiLine =
  | { kind: "gpu"; reading: GpuReading; missing: MissingReading[] }
  /** A GPU the driver lists but cannot read (lost, needs a reset). */
  | { kind: "gpu-failed"; index: number; name: string; reason: string }
  /** A line that is no GPU row: an error or notice from nvidia-smi. */
  | { kind: "message"; text: string }
  | { kind: "blank" };

type Field = { value: number } | { unavailable: string };

function parseField(raw: string): Field {
  const text = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return { value: Number(text) };
  return { unavailable: text.replace(/^\[|\]$/g, "") || "empty" };
}

export function parseNvidiaSmiLine(line: string): NvidiaSmiLine {
  const text = line.trim();
  if (text === "") return { kind: "blank" };
  const parts = text.split(",");
  // A name could hold a comma; the four numbers are always the last fields.
  if (parts.length < 6 || !/^\s*\d+\s*$/.test(parts[0] ?? "")) return { kind: "message", text };
  const index = Number(parts[0]);
  const name =
    parts
      .slice(1, parts.length - 4)
      .join(",")
      .trim() || `GPU ${index}`;
  const [utilization, temperature, used, total] = parts.slice(-4).map(parseField) as [Field, Field, Field, Field];

  const failure = [utilization, temperature, used, total].find(
    (field): field is { unavailable: string } => "unavailable" in field && GPU_FAILURE.test(field.unavailable),
  );
  if (failure || GPU_FAILURE.test(name)) {
    return { kind: "gpu-failed", index, name, reason: failure?.unavailable ?? name };
  }

  const label = `gpu ${index} (${name})`;
  const missing: MissingReading[] = [];
  const numberOr = (field: Field, what: MissingReading["what"], description: string): number | null => {
    if ("value" in field) return field.value;
    missing.push({ what, reason: `${label}: ${description} not reported by the driver (${field.unavailable})` });
    return null;
  };
  const utilizationPercent = numberOr(utilization, "gpu-utilization", "utilization");
  const temperatureC = numberOr(temperature, "gpu-temperature", "temperature");
  const usedMiB = numberOr(used, "vram", "memory used");
  const totalMiB = "value" in total ? total.value : null;
  if (totalMiB === null && usedMiB !== null) {
    missing.push({ what: "vram", reason: `${label}: memory size not reported by the driver` });
  }
  return {
    kind: "gpu",
    reading: {
      index,
      name,
      utilization: utilizationPercent === null ? null : Math.min(1, Math.max(0, utilizationPercent / 100)),
      temperatureC,
      vramUsedBytes: usedMiB === null ? null : usedMiB * MIB,
      vramTotalBytes: totalMiB === null ? null : totalMiB * MIB,
    },
    missing,
  };
}

export interface GpuSnapshot {
  gpus: GpuReading[];
  missing: MissingReading[];
}

/** Folds parsed lines (one frame of output) into readings and the reasons for what is missing. */
export function summarizeNvidiaSmiLines(lines: readonly NvidiaSmiLine[]): GpuSnapshot {
  const gpus: GpuReading[] = [];
  const missing: MissingReading[] = [];
  for (const line of lines) {
    switch (line.kind) {
      case "gpu":
        gpus.push(line.reading);
        missing.push(...line.missing);
        break;
      case "gpu-failed":
        missing.push({ what: "gpu", reason: `gpu ${line.index} (${line.name}): cannot be read: ${line.reason}` });
        break;
      case "message":
        missing.push({ what: "gpu", reason: `gpu: nvidia-smi says: ${describeMessage(line.text)}` });
        break;
      case "blank":
        break;
      default:
        line satisfies never;
    }
  }
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, missing };
}

export function parseNvidiaSmiCsv(text: string): GpuSnapshot {
  return summarizeNvidiaSmiLines(text.split(/\r?\n/).map(parseNvidiaSmiLine));
}

/** nvidia-smi's messages are untrusted text for the UI: one line, bounded. */
export function describeMessage(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
