// `npm run soak`: runs every loop of the fault suite (loops.ts) one after another and prints
// one table: loop, iterations, figures, verdict. Exits 1 when a loop fails. Bounded: every
// loop stops by itself. Options: --short (the short counts), --only <text> (loops whose file
// contains it).

import { pathToFileURL } from "node:url";
import { LOOPS, type SoakEntry } from "./loops.js";
import type { SoakLoop, SoakResult } from "./soak-loop.js";

interface Row {
  entry: SoakEntry;
  iterations: number;
  result: SoakResult;
  seconds: number;
}

async function loadLoop(file: string): Promise<SoakLoop> {
  const module = (await import(new URL(file, import.meta.url).href)) as Record<string, unknown>;
  if (typeof module.default === "function") return module.default as SoakLoop;
  const functions = Object.entries(module).filter((entry): entry is [string, SoakLoop] => typeof entry[1] === "function");
  // One exported function is the loop; among several, the one named run… (runRpcFuzz, say).
  const chosen = functions.length === 1 ? functions : functions.filter(([name]) => /^run[A-Z]/.test(name));
  if (chosen.length !== 1) throw new Error(`${file} must export its loop as its default, its one function, or its one run… function`);
  return (chosen[0] as [string, SoakLoop])[1];
}

function verdict(result: SoakResult): string {
  if (typeof result.figures.skipped === "string") return "skipped";
  return result.ok ? "pass" : "FAIL";
}

export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((row) => [
    row.result.name,
    String(row.iterations),
    Object.entries(row.result.figures)
      .map(([key, value]) => `${key} ${value}`)
      .join(", "),
    `${verdict(row.result)} (${row.seconds.toFixed(0)} s)`,
  ]);
  const header = ["loop", "iterations", "figures", "verdict"];
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [format(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...lines.map(format)].join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const short = args.includes("--short");
  const onlyIndex = args.indexOf("--only");
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const rows: Row[] = [];
  for (const entry of LOOPS) {
    if (only !== undefined && !entry.file.includes(only)) continue;
    const iterations = short ? entry.short : entry.iterations;
    const started = performance.now();
    let result: SoakResult;
    try {
      const loop = await loadLoop(entry.file);
      process.stderr.write(`soak: ${entry.file} × ${iterations} …\n`);
      result = await loop({ iterations });
    } catch (error) {
      result = {
        name: entry.file.replace(/^\.\/|\.js$/g, ""),
        figures: { error: error instanceof Error ? error.message : String(error) },
        ok: false,
      };
    }
    const row = { entry, iterations, result, seconds: (performance.now() - started) / 1000 };
    rows.push(row);
    process.stderr.write(`soak: ${result.name}: ${verdict(result)} in ${row.seconds.toFixed(0)} s\n`);
  }
  process.stdout.write(`${formatTable(rows)}\n`);
  process.exitCode = rows.every((row) => row.result.ok) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    // Loops end their processes; anything left (a timer) must not keep the suite running.
    () => process.exit(),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
