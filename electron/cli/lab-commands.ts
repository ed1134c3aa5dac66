// `quanta quantize` and `quanta compare`: the lab from a terminal, with a progress bar on
// stderr. They run the same LabService the app does, in engine processes of their own.

import { promises as fs } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { QuantaError } from "../contract/errors.js";
import type { LabEvent } from "../contract/types.js";
import { runToMarkdown, runToText } from "../contract/lab-report.js";
import { forkEngine } from "../core/engine-client/engine-process.js";
import { ThreadMemory } from "../core/engine-client/thread-memory.js";
import { LabService, variantFileName } from "../core/lab/lab-service.js";
import { dataPaths, resolveHome } from "../core/settings/paths.js";
import { parseQuantRecipe, RECIPE_KEEP_TYPES } from "../common-node/gguf/quant-types.js";
import { ENGINE_ENTRY } from "./install-paths.js";

export class LabUsageError extends Error {}

/** One line on stderr, redrawn in place on a terminal; elsewhere a line per phase and per tenth. */
function progressBar(): { show(fraction: number, label: string): void; done(): void } {
  // isTTY is undefined, not false, when stderr is a pipe or a file.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- the typings say boolean, the runtime gives undefined off a terminal
  const tty = process.stderr.isTTY === true;
  let lastLabel = "";
  let lastTenth = -1;
  return {
    show(fraction, label) {
      const width = 30;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${label}`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else if (label !== lastLabel || Math.floor(fraction * 10) !== lastTenth) process.stderr.write(`${line}\n`);
      lastLabel = label;
      lastTenth = Math.floor(fraction * 10);
    },
    done() {
      if (tty) process.stderr.write("\n");
    },
  };
}

function service(emit: (event: LabEvent) => void = () => undefined): LabService {
  const home = resolveHome();
  return new LabService({
    home,
    spawnEngine: forkEngine(ENGINE_ENTRY),
    threadMemory: new ThreadMemory(dataPaths(home).threadCalibrations),
    emit,
  });
}

export async function quantizeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { type: { type: "string" }, keep: { type: "string" }, out: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const [input, ...extra] = positionals;
  if (!input || extra.length > 0) throw new LabUsageError("quanta quantize takes one input file.");
  if (!values.type) throw new LabUsageError("Say which type to make with --type, e.g. --type Q4_K_M.");
  // A mixed precision recipe: --type Q4_K_M+Q8_0, or --type Q4_K_M --keep Q8_0 (output and token embeddings kept at Q8_0).
  let type = values.type;
  if (values.keep !== undefined) {
    if (type.includes("+")) throw new LabUsageError(`--type ${type} already names a recipe; leave out --keep.`);
    type = `${type}+${values.keep}`;
  }
  if (type.includes("+")) {
    const recipe = parseQuantRecipe(type);
    if (!recipe) {
      throw new LabUsageError(
        `"${type}" is not a recipe Quanta knows: write the base type, "+", and the type to keep the output and embeddings at (${Object.keys(RECIPE_KEEP_TYPES).join(" or ")}), e.g. Q4_K_M+Q8_0.`,
      );
    }
    type = recipe.name;
  }
  const output = path.resolve(values.out ?? path.join(path.dirname(input), variantFileName(input, type)));
  const bar = progressBar();
  const lab = service();
  let cancel = (): void => undefined;
  const onSignal = (): void => cancel();
  process.once("SIGINT", onSignal);
  try {
    const result = await lab.quantizeFile(
      path.resolve(input),
      output,
      type,
      (progress) => bar.show(progress.fraction, `${type} → ${path.basename(output)}`),
      (engine) => {
        cancel = () => engine.stop(new QuantaError("invalid_request", "Cancelled; nothing was written."));
      },
    );
    bar.done();
    console.log(`${output} (${(result.bytes / 1024 / 1024).toFixed(1)} MiB)`);
  } finally {
    process.off("SIGINT", onSignal);
  }
}

export async function compareCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      text: { type: "string" },
      ctx: { type: "string" },
      json: { type: "boolean" },
      md: { type: "boolean" },
      "quality-only": { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length < 2) throw new LabUsageError("quanta compare needs at least two model files.");
  if (values.json && values.md) throw new LabUsageError("Choose --json or --md, not both.");
  const contextSize = values.ctx === undefined ? 512 : Number(values.ctx);
  if (!Number.isInteger(contextSize) || contextSize < 16 || contextSize > 65536) {
    throw new LabUsageError(`--ctx must be a whole number from 16 to 65536, not "${values.ctx}".`);
  }
  const bar = progressBar();
  const lab = service((event) => {
    if (event.type !== "lab.progress") return;
    const { variant, variants, variantName, phase, fraction } = event.progress;
    bar.show(fraction, `${variant + 1}/${variants} ${variantName}: ${phase}`);
  });
  let text: { id: string; title: string; text: string };
  if (values.text) {
    let body: string;
    try {
      body = await fs.readFile(values.text, "utf8");
    } catch {
      throw new QuantaError("not_found", `The evaluation text ${values.text} could not be read.`);
    }
    text = { id: "file", title: path.basename(values.text), text: body };
  } else {
    text = { id: "mixed", ...(await lab.texts.get("mixed")) };
  }
  const started = await lab.startComparison({
    files: positionals.map((file) => ({ path: path.resolve(file), modelId: null })),
    text,
    contextSize,
    qualityOnly: values["quality-only"] ?? false,
  });
  const onSignal = (): void => void lab.cancelComparison(started.runId);
  process.once("SIGINT", onSignal);
  try {
    const run = await started.done;
    bar.done();
    // A run that stopped after some variants prints what it measured (the report says where it
    // stopped), then fails; one that measured nothing prints only the error.
    if (run.variants.length > 0) {
      if (values.json) console.log(JSON.stringify(run, null, 2));
      else if (values.md) process.stdout.write(runToMarkdown(run));
      else process.stdout.write(runToText(run));
    }
    if (run.status !== "complete") {
      const at = run.failedFile ? ` at ${run.failedFile}` : "";
      throw new QuantaError(run.error?.code ?? "internal", run.error?.message ?? `The comparison was ${run.status}${at}.`);
    }
  } finally {
    process.off("SIGINT", onSignal);
  }
}
