// NVIDIA GPU readings from one long-running `nvidia-smi --query-gpu=… -lms <interval>` child,
// read line by line, for as long as someone watches. Starting nvidia-smi costs tens of
// milliseconds of CPU (it initializes NVML every time), so one process per sample at 4 Hz would
// cost more than the whole rest of the monitor; the looping child pays that once.
//
// What can go wrong, and what is reported (a MissingReading, never a zero):
// - no nvidia-smi on the PATH (no NVIDIA driver, macOS, this development machine);
// - nvidia-smi exits (driver reloaded, GPU lost): restarted with backoff while watched;
// - a GPU stops appearing or shows error fields: missing, with nvidia-smi's own words.

import { spawn, type ChildProcess } from "node:child_process";
import type { MissingReading } from "../../contract/types.js";
import {
  describeMessage,
  NVIDIA_SMI_QUERY,
  parseNvidiaSmiLine,
  summarizeNvidiaSmiLines,
  type GpuSnapshot,
  type NvidiaSmiLine,
} from "./nvidia-smi.js";

export const NO_NVIDIA_SMI = "gpu: no NVIDIA driver tools (nvidia-smi) on this machine";

const RESTART_DELAYS_MS = [1000, 5000, 30_000];
/** A child that ran this long was healthy; the next failure starts the backoff anew. */
const HEALTHY_RUN_MS = 60_000;
const MAX_LINE_CHARS = 4096;

export interface GpuReaderOptions {
  /** The program to run; tests pass a stand-in script. */
  command?: string;
  /** Arguments put before the query (e.g. the script for `node`). */
  prefixArgs?: readonly string[];
}

interface LineSeen {
  at: number;
  line: NvidiaSmiLine;
}

export class GpuReader {
  private readonly command: string;
  private readonly prefixArgs: readonly string[];
  private child: ChildProcess | null = null;
  private intervalMs = 1000;
  private running = false;
  /** Set when the program does not exist: no retries until the next start. */
  private absent = false;
  private startedAt = 0;
  private failures = 0;
  private restartAt = 0;
  private lastExit: string | null = null;
  private stderrTail = "";
  /** The last line that was no GPU row: nvidia-smi prints its errors on stdout. */
  private lastMessage = "";
  /** The latest line per GPU index, and the latest error messages, with when they came. */
  private gpus = new Map<number, LineSeen>();
  private messages = new Map<string, LineSeen>();

  constructor(options: GpuReaderOptions = {}) {
    this.command = options.command ?? "nvidia-smi";
    this.prefixArgs = options.prefixArgs ?? [];
  }

  /** Starts (or re-times) the looping child. */
  start(intervalMs: number): void {
    const changed = intervalMs !== this.intervalMs;
    this.intervalMs = intervalMs;
    if (!this.running) {
      this.running = true;
      this.absent = false;
      this.failures = 0;
      this.restartAt = 0;
      this.lastExit = null;
      this.spawnChild();
    } else if (changed && this.child) {
      this.stopChild();
      this.spawnChild();
    }
  }

  stop(): void {
    this.running = false;
    this.stopChild();
    this.gpus.clear();
    this.messages.clear();
  }

  /** Whether nvidia-smi was found missing (the caller may then use llama.cpp's VRAM figures). */
  get unavailable(): boolean {
    return this.absent;
  }

  /** The readings at `now`: the latest line of each GPU, unless it is stale. */
  read(now = Date.now()): GpuSnapshot {
    if (!this.running) return { gpus: [], missing: [{ what: "gpu", reason: "gpu: not sampling" }] };
    if (this.absent) return { gpus: [], missing: [{ what: "gpu", reason: NO_NVIDIA_SMI }] };
    if (!this.child) {
      if (now >= this.restartAt) this.spawnChild();
      return { gpus: [], missing: [{ what: "gpu", reason: `gpu: nvidia-smi stopped (${this.lastExit ?? "unknown"}); restarting it` }] };
    }
    const staleAfter = 2 * this.intervalMs + 2000;
    const fresh: NvidiaSmiLine[] = [];
    const missing: MissingReading[] = [];
    for (const [index, seen] of this.gpus) {
      if (now - seen.at <= staleAfter) {
        fresh.push(seen.line);
        continue;
      }
      const name = seen.line.kind === "gpu" ? seen.line.reading.name : seen.line.kind === "gpu-failed" ? seen.line.name : "";
      missing.push({
        what: "gpu",
        reason: `gpu ${index}${name ? ` (${name})` : ""}: no reading from nvidia-smi for ${Math.round((now - seen.at) / 1000)} s`,
      });
    }
    for (const [text, seen] of this.messages) {
      if (now - seen.at <= staleAfter) fresh.push(seen.line);
      else this.messages.delete(text);
    }
    const snapshot = summarizeNvidiaSmiLines(fresh);
    snapshot.missing.push(...missing);
    if (snapshot.gpus.length === 0 && snapshot.missing.length === 0) {
      snapshot.missing.push({ what: "gpu", reason: "gpu: waiting for the first reading from nvidia-smi" });
    }
    return snapshot;
  }

  private spawnChild(): void {
    const args = [...this.prefixArgs, ...NVIDIA_SMI_QUERY, `-lms`, String(this.intervalMs)];
    let child: ChildProcess;
    try {
      child = spawn(this.command, args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    } catch (error) {
      this.childFailed(error instanceof Error ? error.message : String(error));
      return;
    }
    this.child = child;
    this.startedAt = Date.now();
    this.stderrTail = "";
    this.lastMessage = "";
    let pending = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = (lines.pop() ?? "").slice(-MAX_LINE_CHARS);
      const at = Date.now();
      for (const raw of lines) this.accept(raw.slice(0, MAX_LINE_CHARS), at);
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-MAX_LINE_CHARS);
    });
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = null;
      if (error.code === "ENOENT") {
        this.absent = true;
        return;
      }
      this.childFailed(error.message);
    });
    child.once("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      const said = describeMessage(this.stderrTail.trim().split("\n").at(-1) || this.lastMessage);
      this.childFailed(`${signal ? `signal ${signal}` : `exit code ${code ?? "unknown"}`}${said ? `: ${said}` : ""}`);
    });
  }

  private accept(raw: string, at: number): void {
    const line = parseNvidiaSmiLine(raw);
    switch (line.kind) {
      case "gpu":
        this.gpus.set(line.reading.index, { at, line });
        break;
      case "gpu-failed":
        this.gpus.set(line.index, { at, line });
        break;
      case "message":
        this.messages.set(line.text, { at, line });
        this.lastMessage = line.text;
        break;
      case "blank":
        break;
      default:
        line satisfies never;
    }
  }

  private childFailed(description: string): void {
    this.lastExit = description;
    this.gpus.clear();
    this.messages.clear();
    if (Date.now() - this.startedAt >= HEALTHY_RUN_MS) this.failures = 0;
    const delay = RESTART_DELAYS_MS[Math.min(this.failures, RESTART_DELAYS_MS.length - 1)] ?? 30_000;
    this.failures += 1;
    this.restartAt = Date.now() + delay;
  }

  private stopChild(): void {
    const child = this.child;
    this.child = null;
    // A child whose program was not found has no pid until its error event arrives, and Node's
    // kill() on it signals pid 0: this process's whole group. Only a started child is killed.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill();
  }
}
