// The library facing damaged and hostile *.gguf entries (test/fixtures/hostile-gguf.ts): each
// is listed with its reason (none dropped without a word: folders, pipes, link loops and
// dangling links included), the inspector shows every header that could be read, and a model
// llama.cpp must not see (it would abort the engine) is refused before loading.

import { promises as fs } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelSummary } from "../../electron/contract/types.js";
import { ModelLibrary } from "../../electron/core/library/model-library.js";
import { HOSTILE_KINDS } from "../fixtures/hostile-gguf.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let folder: string;
let library: ModelLibrary;
let listed: ModelSummary[];
const fileOf = new Map<string, string>();

beforeAll(async () => {
  folder = await tempDir("hostile-library");
  for (const kind of HOSTILE_KINDS) fileOf.set(kind.name, await kind.make(folder, STORIES_MODEL));
  library = new ModelLibrary(() => [{ kind: "folder", source: "folder", folder }]);
  listed = await library.scan();
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

describe("hostile GGUF entries in the library", () => {
  it("lists every entry named *.gguf", () => {
    expect(HOSTILE_KINDS.length).toBeGreaterThanOrEqual(25);
    for (const kind of HOSTILE_KINDS)
      expect(
        listed.map((m) => m.fileName),
        kind.name,
      ).toContain(fileOf.get(kind.name));
  });

  for (const kind of HOSTILE_KINDS) {
    it(`${kind.name}: ${kind.stage === "listed" ? "listed with its reason, loading refused" : "listed as loadable"}${kind.inspectable ? ", inspectable" : ""}`, async () => {
      const entry = listed.find((m) => m.fileName === fileOf.get(kind.name));
      if (!entry) throw new Error(`${kind.name} is not listed`);
      if (kind.stage === "listed") {
        expect(entry.error?.code).toBe("model_invalid");
        expect(entry.error?.message).toMatch(kind.reason);
        await expect(library.resolve(entry.id)).rejects.toMatchObject({ code: "model_invalid" });
      } else {
        expect(entry.error).toBeNull();
      }
      if (kind.inspectable) {
        const inspection = await library.inspect(entry.id);
        expect(inspection.tensors.length).toBeGreaterThan(0);
      } else {
        await expect(library.inspect(entry.id)).rejects.toMatchObject({ code: "model_invalid" });
      }
    });
  }

  it("shows a tensor of unknown type as unknown with its id and no size, never a zero", async () => {
    const entry = listed.find((m) => m.fileName === "unknown-type.gguf");
    const inspection = await library.inspect(entry?.id ?? "");
    expect(inspection.tensors.find((t) => t.name === "alpha.weight")).toMatchObject({ type: null, typeId: 1000, bytes: null });
    expect(inspection).toMatchObject({ tensorBytes: null, bitsPerWeight: null, unknownTensorTypes: [1000] });
    expect(inspection.byType).toEqual([{ type: "F16", tensors: 1, elements: 8, bytes: 16, share: null }]);
  });
});
