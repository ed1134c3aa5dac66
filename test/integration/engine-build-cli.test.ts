// `quanta engine` as a person runs it: the built CLI in a child process. Status names the build
// a fresh engine loads (and, for a prebuilt, the CPU kernels it picked, which must be one of the
// files the package ships); a build on a machine without the tools says which are missing and
// changes nothing; a wrong subcommand is a usage error. No test compiles llama.cpp.

import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_ENTRY, DIST, REPO_ROOT, tempDir } from "../support/paths.js";

const BUILD_ENTRY = path.join(DIST, "electron", "engine", "engine-build-command.js");
const NODE_LLAMA_CPP = path.join(REPO_ROOT, "node_modules", "node-llama-cpp");
const LOCAL_BUILDS = path.join(NODE_LLAMA_CPP, "llama", "localBuilds");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function listing(folder: string): Promise<string[]> {
  return existsSync(folder) ? (await fs.readdir(folder)).sort() : [];
}

let emptyBin = "";
beforeAll(async () => {
  emptyBin = await tempDir("engine-build-no-tools");
});
afterAll(async () => {
  await fs.rm(emptyBin, { recursive: true, force: true });
});

describe("quanta engine", () => {
  it("names the build a fresh engine loads, with the CPU kernels a prebuilt picked", async () => {
    const shown = await run(CLI_ENTRY, ["engine", "status"]);
    expect(shown.code, shown.stderr).toBe(0);
    const line =
      /^Engine build: (prebuilt by node-llama-cpp(?:, CPU kernels for ([a-z0-9_]+))?|built on this machine) \(llama\.cpp (v\d+\.\d+\.\d+)\)$/m.exec(
        shown.stdout,
      );
    expect(line, shown.stdout).not.toBeNull();

    const read = await run(BUILD_ENTRY, ["status", "--json"]);
    expect(read.code, read.stderr).toBe(0);
    const build = JSON.parse(read.stdout.trim().split("\n").pop() ?? "") as {
      kind: string;
      llamaCpp: string;
      cpuVariant: string | null;
      localBuildFolder: string | null;
    };
    expect(build.llamaCpp).toBe(line?.[3]);
    if (build.kind === "local") {
      expect(line?.[1]).toBe("built on this machine");
      expect(path.dirname(build.localBuildFolder ?? "")).toBe(LOCAL_BUILDS);
      expect(existsSync(build.localBuildFolder ?? "")).toBe(true);
    } else {
      expect(build.kind).toBe("prebuilt");
      expect(build.localBuildFolder).toBeNull();
      expect(line?.[2] ?? null).toBe(build.cpuVariant);
      if (build.cpuVariant !== null) {
        // The variant read from the process's loaded libraries is one the prebuilt package ships.
        const packages = path.join(REPO_ROOT, "node_modules", "@node-llama-cpp");
        const shipped: string[] = [];
        for (const pkg of await listing(packages)) {
          for (const folder of await listing(path.join(packages, pkg, "bins")))
            shipped.push(...(await listing(path.join(packages, pkg, "bins", folder))));
        }
        expect(shipped.some((file) => file.startsWith(`libggml-cpu-${build.cpuVariant ?? ""}.`))).toBe(true);
      }
    }
  });

  it("refuses to build without cmake, a compiler and git, names them, and changes nothing", async () => {
    const before = await listing(LOCAL_BUILDS);
    const refused = await run(CLI_ENTRY, ["engine", "build"], { ...process.env, PATH: emptyBin });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Building the engine needs cmake, a C++ compiler (c++, g++ or clang++), and git");
    expect(refused.stderr).toContain("Nothing was changed.");
    expect(await listing(LOCAL_BUILDS)).toEqual(before);
  });

  it("calls an unknown subcommand a usage error", async () => {
    const wrong = await run(CLI_ENTRY, ["engine", "rebuild"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Unknown engine command "rebuild": status, build or reset.');
  });
});
