// Which build of llama.cpp the engine runs, and a build of it for this machine.
//
// node-llama-cpp ships prebuilt binaries compiled for a family of CPUs (x64: haswell, zen4, ...;
// the best the CPU supports is picked at start). It can also compile the llama.cpp source it
// bundles on this machine, with this machine's compiler, and then loads that build instead.
// On the development machine the prebuilt F16 matrix kernel keeps its accumulators in memory
// where a local compile keeps them in registers: batches of F16 weights run twice as fast built
// here (docs/PERFORMANCE.md). Quanta builds with the prebuilt's threading (ggml's own thread
// pool, no OpenMP), so thread calibration means the same for both, and finds the build by the
// same options when it starts (node-llama-cpp names a build folder after its options).

import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Llama, LlamaGpuType } from "node-llama-cpp";
import type { EngineBuild } from "../contract/types.js";

/** The CMake options of Quanta's build for this machine (beyond node-llama-cpp's own). */
export const LOCAL_BUILD_CMAKE_OPTIONS: Readonly<Record<string, string>> = { GGML_OPENMP: "OFF" };

/** Files of a process's loaded libraries (empty where the runtime gives no diagnostic report). */
export function loadedLibraries(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the typings say always there; kept for runtimes built without diagnostic reports
  const report = process.report?.getReport() as { sharedObjects?: unknown } | undefined;
  const objects = Array.isArray(report?.sharedObjects) ? report.sharedObjects : [];
  return [...new Set(objects.filter((item): item is string => typeof item === "string"))];
}

/** ggml's CPU kernel variant among loaded libraries: libggml-cpu-haswell.so → "haswell"; null for a single-variant build. */
export function cpuVariantOf(libraries: readonly string[]): string | null {
  for (const file of libraries) {
    const match = /^(?:lib)?ggml-cpu-([a-z0-9_]+)\.(?:so|dylib|dll)(?:\.\d+)*$/i.exec(path.basename(file));
    if (match?.[1]) return match[1];
  }
  return null;
}

/** The build a started backend runs. */
export function describeBuild(llama: Llama): EngineBuild {
  return {
    kind: llama.buildType === "localBuild" ? "local" : "prebuilt",
    llamaCpp: llama.llamaCppRelease.release,
    cpuVariant: cpuVariantOf(loadedLibraries()),
  };
}

/** node-llama-cpp's package folder (for its command line and its local builds). */
export function nodeLlamaCppFolder(): string {
  // The package exports only its entry (dist/index.js); its folder is the one above dist/.
  return path.dirname(path.dirname(createRequire(import.meta.url).resolve("node-llama-cpp")));
}

/** Where node-llama-cpp keeps its local builds, one folder per set of build options. */
function localBuildsFolder(): string {
  return path.join(nodeLlamaCppFolder(), "llama", "localBuilds");
}

/** Is the bundled source cloned already (else it is cloned from the bundle first)? */
function sourceCloned(): boolean {
  return existsSync(path.join(nodeLlamaCppFolder(), "llama", "llama.cpp", "CMakeLists.txt"));
}

/** The folder of the local build this process loaded (localBuilds/<name>), or null when it runs a prebuilt. */
export function loadedLocalBuildFolder(): string | null {
  const builds = localBuildsFolder();
  for (const file of loadedLibraries()) {
    const relative = path.relative(builds, file);
    const name = relative.split(path.sep)[0];
    if (name && !relative.startsWith("..") && !path.isAbsolute(relative) && path.basename(file).startsWith("llama-addon")) {
      return path.join(builds, name);
    }
  }
  return null;
}

/** What a build needs and this machine lacks (program names), empty when all is there. */
export function missingBuildTools(envPath = process.env.PATH ?? ""): string[] {
  const onPath = (names: string[]) =>
    names.some((name) =>
      envPath
        .split(path.delimiter)
        .filter(Boolean)
        .some((folder) => existsSync(path.join(folder, process.platform === "win32" ? `${name}.exe` : name))),
    );
  const missing: string[] = [];
  if (!onPath(["cmake"])) missing.push("cmake");
  // Windows builds find MSVC through CMake itself.
  if (process.platform !== "win32" && !onPath(["c++", "g++", "clang++"])) missing.push("a C++ compiler (c++, g++ or clang++)");
  if (!onPath(["git"])) missing.push("git");
  return missing;
}

/**
 * Compiles node-llama-cpp's bundled llama.cpp source for this machine through node-llama-cpp's own
 * command line (its CMake project, its folder naming), offline. Resolves with the exit code.
 */
export function buildForThisMachine(gpu: LlamaGpuType, output: (chunk: string) => void): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_LLAMA_CPP_SKIP_DOWNLOAD; // node-llama-cpp refuses an empty value; the build downloads nothing
  for (const [name, value] of Object.entries(LOCAL_BUILD_CMAKE_OPTIONS)) env[`NODE_LLAMA_CPP_CMAKE_OPTION_${name}`] = value;
  // "download" takes the source from the bundle in node-llama-cpp's package when it is there.
  const cli = path.join(nodeLlamaCppFolder(), "dist", "cli", "cli.js");
  const command = [cli, "source", sourceCloned() ? "build" : "download", "--gpu", String(gpu), "--noUsageExample"];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => output(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output(chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
}

/** Is there a source bundle to build from without the network? */
export function hasSourceBundle(): boolean {
  return sourceCloned() || existsSync(path.join(nodeLlamaCppFolder(), "llama", "gitRelease.bundle"));
}

/** Removes a local build folder, checked to be one of node-llama-cpp's local builds. */
export async function removeLocalBuild(folder: string): Promise<void> {
  if (path.dirname(folder) !== localBuildsFolder()) throw new Error(`${folder} is not one of node-llama-cpp's local builds.`);
  await fs.rm(folder, { recursive: true, force: true });
}
