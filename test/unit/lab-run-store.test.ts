// Saved comparison runs: written atomically, listed newest first, a damaged file skipped in the
// list and refused when opened, ids that are not ids refused.

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LabRun } from "../../electron/contract/types.js";
import { LabRunStore } from "../../electron/core/lab/run-store.js";
import { divergence, variantFileName } from "../../electron/core/lab/lab-service.js";

let folder: string;

beforeEach(async () => {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), "quanta-runs-"));
});

afterEach(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

function run(id: string, createdAt: string): LabRun {
  return {
    id,
    createdAt,
    finishedAt: createdAt,
    status: "complete",
    modelName: "toy",
    architecture: "llama",
    textId: "mixed",
    textTitle: "All texts together",
    contextSize: 128,
    variants: [],
    machine: { cpu: "cpu", cores: 2, memoryBytes: 1024, gpu: null },
    error: null,
  };
}

describe("saved runs", () => {
  it("are listed newest first and reopened as saved; a damaged file is left out of the list", async () => {
    const store = new LabRunStore(folder);
    await store.save(run("old", "2026-01-01T00:00:00.000Z"));
    await store.save(run("new", "2026-02-01T00:00:00.000Z"));
    await fs.writeFile(path.join(folder, "broken.json"), '{"id": "broken", "status": "comp');
    expect((await store.list()).map((summary) => summary.id)).toEqual(["new", "old"]);
    expect(await store.get("old")).toEqual(run("old", "2026-01-01T00:00:00.000Z"));
    await expect(store.get("broken")).rejects.toThrow(/damaged/);
    await expect(store.get("missing")).rejects.toThrow(/not there any more/);
    await expect(store.get("../etc/passwd")).rejects.toThrow(/not a run id/);
    // The engine build that measured a run is kept; a build of a kind no Quanta makes is damage.
    const built = run("built", "2026-03-01T00:00:00.000Z");
    built.machine.engineBuild = { kind: "local", llamaCpp: "v0.5.0", cpuVariant: null };
    await store.save(built);
    expect(await store.get("built")).toEqual(built);
    const forged = JSON.parse(await fs.readFile(path.join(folder, "built.json"), "utf8")) as LabRun;
    await fs.writeFile(
      path.join(folder, "built.json"),
      JSON.stringify({ ...forged, machine: { ...forged.machine, engineBuild: { kind: "turbo" } } }),
    );
    await expect(store.get("built")).rejects.toThrow(/damaged/);
    expect((await fs.readdir(folder)).filter((file) => file.endsWith(".tmp"))).toEqual([]);
  });
});

describe("deleting a saved run", () => {
  it("removes its file, leaves the others, and says when it is already gone", async () => {
    const store = new LabRunStore(folder);
    await store.save(run("a", "2026-01-01T00:00:00.000Z"));
    await store.save(run("b", "2026-02-01T00:00:00.000Z"));
    await store.delete("a");
    expect((await store.list()).map((summary) => summary.id)).toEqual(["b"]);
    expect(await fs.readdir(folder)).toEqual(["b.json"]);
    await expect(store.get("a")).rejects.toThrow(/not there any more/);
    await expect(store.delete("a")).rejects.toMatchObject({ code: "not_found" });
    await expect(store.delete("../b")).rejects.toThrow(/not a run id/);
    expect(await fs.readdir(folder)).toEqual(["b.json"]);
  });
});

describe("variant file names and divergence", () => {
  it("replace a trailing float or Q8_0 type in the source's name", () => {
    expect(variantFileName("/m/llama-7b-F16.gguf", "Q4_K_M")).toBe("llama-7b-Q4_K_M.gguf");
    expect(variantFileName("model.f32.gguf", "Q8_0")).toBe("model-Q8_0.gguf");
    expect(variantFileName("stories260K.gguf", "Q2_K")).toBe("stories260K-Q2_K.gguf");
  });

  it("finds the first token where a continuation leaves the reference", () => {
    expect(divergence([1, 2, 3], [1, 2, 3])).toBeNull();
    expect(divergence([1, 2, 3], [1, 5, 3])).toBe(1);
    expect(divergence([1, 2, 3], [1, 2])).toBe(2);
  });
});
