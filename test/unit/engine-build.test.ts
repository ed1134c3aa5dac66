// The pure parts of `quanta engine`: which CPU kernels a prebuilt loaded, read from library file
// names, and which build tools a PATH lacks, read from real files in temporary folders.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpuVariantOf, missingBuildTools } from "../../electron/engine/engine-build.js";
import { tempDir } from "../support/paths.js";

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => fs.rm(folder, { recursive: true, force: true })));
});

async function binFolder(programs: string[]): Promise<string> {
  const folder = await tempDir("engine-build-path");
  folders.push(folder);
  for (const name of programs)
    await fs.writeFile(path.join(folder, process.platform === "win32" ? `${name}.exe` : name), "", { mode: 0o755 });
  return folder;
}

describe("cpuVariantOf", () => {
  it("reads the variant from ggml's CPU library, whatever the platform's naming", () => {
    const root = "/opt/quanta/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
    expect(cpuVariantOf([`${root}/libllama.v0.5.0.so`, `${root}/libggml-base.so`, `${root}/libggml-cpu-haswell.so`])).toBe("haswell");
    expect(cpuVariantOf(["/x/libggml-cpu-zen4.so.0.25.1"])).toBe("zen4");
    expect(cpuVariantOf(["/q/ggml-cpu-alderlake.dll"])).toBe("alderlake");
    expect(cpuVariantOf(["/x/libggml-cpu-apple_m1.dylib"])).toBe("apple_m1");
  });

  it("is null for a build with one CPU library, or none loaded", () => {
    expect(cpuVariantOf(["/b/Release/libggml-cpu.so", "/b/Release/libllama.v0.5.0.so"])).toBeNull();
    expect(cpuVariantOf([])).toBeNull();
  });
});

describe("missingBuildTools", () => {
  it("names what a PATH lacks, and nothing when all is there", async () => {
    expect(missingBuildTools(await binFolder([]))).toEqual(["cmake", "a C++ compiler (c++, g++ or clang++)", "git"]);
    expect(missingBuildTools(await binFolder(["cmake", "clang++", "git"]))).toEqual([]);
    const split = [await binFolder(["cmake"]), await binFolder(["g++"]), "", await binFolder(["git"])].join(path.delimiter);
    expect(missingBuildTools(split)).toEqual([]);
    expect(missingBuildTools(await binFolder(["git", "c++"]))).toEqual(["cmake"]);
  });
});
