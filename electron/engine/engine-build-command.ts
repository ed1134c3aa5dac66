// `quanta engine status|build|reset`, run as a process of its own (the CLI spawns this file):
// it loads node-llama-cpp, which only the engine may, and a build must never replace a library
// that a running engine holds.

import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { engineBuildText } from "../contract/engine-build.js";
import type { EngineBuild } from "../contract/types.js";
import {
  buildForThisMachine,
  describeBuild,
  hasSourceBundle,
  loadedLocalBuildFolder,
  missingBuildTools,
  nodeLlamaCppFolder,
  removeLocalBuild,
} from "./engine-build.js";
import { getBackend } from "./model-session.js";

/** "a, b, and c" */
function listed(items: readonly string[]): string {
  return new Intl.ListFormat("en", { type: "conjunction" }).format(items);
}

async function status(json: boolean): Promise<void> {
  const llama = await getBackend();
  const build = describeBuild(llama);
  if (json) {
    console.log(JSON.stringify({ ...build, localBuildFolder: loadedLocalBuildFolder() }));
    return;
  }
  console.log(`Engine build: ${engineBuildText(build)}`);
  console.log(
    build.kind === "local"
      ? "`quanta engine reset` goes back to node-llama-cpp's prebuilt build."
      : "`quanta engine build` compiles one for this machine (docs/PERFORMANCE.md says what it changes).",
  );
}

/** The build a fresh process loads, read by running `status --json` in one. */
function buildInNewProcess(): EngineBuild & { localBuildFolder: string | null } {
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "status", "--json"], { encoding: "utf8" });
  const line = run.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as EngineBuild & { localBuildFolder: string | null };
  } catch {
    throw new Error(`The engine could not be started to check the build:\n${run.stderr.trim()}`);
  }
}

async function build(): Promise<void> {
  if (nodeLlamaCppFolder().includes(".asar")) {
    throw new Error("This installation's engine is packaged read-only; a build for this machine needs Quanta installed from source.");
  }
  const missing = missingBuildTools();
  if (missing.length > 0) {
    throw new Error(
      `Building the engine needs ${listed(missing)}, which this machine lacks. ` +
        "Install them (on Debian or Ubuntu: apt-get install cmake g++ git) and run `quanta engine build` again. Nothing was changed.",
    );
  }
  if (!hasSourceBundle()) {
    throw new Error("node-llama-cpp's llama.cpp source bundle is missing from this installation, so there is nothing to build offline.");
  }
  const llama = await getBackend();
  if (llama.buildType === "localBuild") {
    console.log(`The engine already runs a build made on this machine: ${engineBuildText(describeBuild(llama))}.`);
    console.log("Run `quanta engine reset` first to build it again.");
    return;
  }
  const gpu = llama.gpu;
  await llama.dispose();
  console.log(`Building llama.cpp for this machine${gpu === false ? "" : ` with ${gpu}`}; this takes 10 to 20 minutes on 2 cores.`);
  const code = await buildForThisMachine(gpu, (chunk) => process.stdout.write(chunk));
  if (code !== 0)
    throw new Error(`The build failed (exit code ${code}; the compiler's output is above). The engine still runs the prebuilt build.`);
  const after = buildInNewProcess();
  if (after.kind !== "local") {
    throw new Error("node-llama-cpp finished the build but a new engine still loads the prebuilt one; the output above may say why.");
  }
  console.log(`Done. The engine's build from its next start: ${engineBuildText(after)}. Restart Quanta if it is running.`);
}

async function reset(): Promise<void> {
  await getBackend();
  const folder = loadedLocalBuildFolder();
  if (folder === null) {
    console.log("The engine runs node-llama-cpp's prebuilt build already; nothing to remove.");
    return;
  }
  await removeLocalBuild(folder);
  const after = buildInNewProcess();
  if (after.kind !== "prebuilt")
    throw new Error(`Removed ${folder}, yet a new engine loads another local build (${after.localBuildFolder ?? "?"}).`);
  console.log(`Removed ${folder}. The engine's build from its next start: ${engineBuildText(after)}. Restart Quanta if it is running.`);
}

async function main(args: string[]): Promise<number> {
  const [command = "status", ...rest] = args;
  try {
    if (command === "status" && (rest.length === 0 || (rest.length === 1 && rest[0] === "--json"))) await status(rest[0] === "--json");
    else if (command === "build" && rest.length === 0) await build();
    else if (command === "reset" && rest.length === 0) await reset();
    else {
      console.error(`Unknown engine command "${[command, ...rest].join(" ")}" (status, build or reset).`);
      return 2;
    }
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
