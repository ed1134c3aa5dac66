// Where the Lab may write a variant, decided from where its source lies: pure rules on real
// folders (for the writability check).

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeSegment, variantDestinations } from "../../electron/core/lab/variant-destination.js";
import { variantFileName } from "../../electron/core/lab/quantize-jobs.js";
import { tempDir } from "../support/paths.js";

let root: string;
let rules: { modelsFolder: string; otherAppsFolders: string[] };

beforeAll(async () => {
  root = await tempDir("destinations");
  rules = { modelsFolder: path.join(root, "home", "models"), otherAppsFolders: [path.join(root, "lmstudio"), path.join(root, "ollama")] };
  for (const folder of ["home/models/someone/tiny", "lmstudio/pub/tiny", "mine"])
    await fs.mkdir(path.join(root, folder), { recursive: true });
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("where a variant may be written", () => {
  it("beside a source in Quanta's own models folder", async () => {
    const source = path.join(root, "home/models/someone/tiny/tiny-F16.gguf");
    expect(await variantDestinations({ path: source, origin: "quanta", fileName: "tiny-F16.gguf", familyName: "Tiny" }, rules)).toEqual({
      destinations: [{ kind: "beside", folder: path.dirname(source) }],
      besideRefusal: null,
    });
  });

  it("never in another app's folder, even when a folder the user added holds it", async () => {
    const source = path.join(root, "lmstudio/pub/tiny/tiny-F16.gguf");
    for (const origin of ["lmstudio", "folder"] as const) {
      expect(await variantDestinations({ path: source, origin, fileName: "tiny-F16.gguf", familyName: "Tiny 1B" }, rules)).toEqual({
        destinations: [{ kind: "models", folder: path.join(rules.modelsFolder, "Tiny 1B") }],
        besideRefusal: "other_app",
      });
    }
  });

  it("for a folder the user added: beside the source first, Quanta's folder as the other choice", async () => {
    const source = path.join(root, "mine/tiny-F16.gguf");
    const result = await variantDestinations({ path: source, origin: "folder", fileName: "tiny-F16.gguf", familyName: "" }, rules);
    expect(result.destinations).toEqual([
      { kind: "beside", folder: path.join(root, "mine") },
      { kind: "models", folder: path.join(rules.modelsFolder, "tiny-F16") },
    ]);
  });

  it("names Ollama's variants from the model's name, not the blob's hash, as safe file names", () => {
    expect(safeSegment("library/llama3.2:1b")).toBe("library-llama3.2-1b");
    expect(safeSegment("../..")).toBe("model");
    expect(variantFileName("llama3.2:1b", "Q4_K_M")).toBe("llama3.2-1b-Q4_K_M.gguf");
    expect(variantFileName("/models/tiny-F16.gguf", "Q8_0")).toBe("tiny-Q8_0.gguf");
  });
});
