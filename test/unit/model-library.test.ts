// The library on real files: families built from synthetic variants of one model and the
// shared test models; a split GGUF listed as one model; fake LM Studio and Ollama layouts
// (real GGUF bytes in the blob) discovered read-only; deleting only what Quanta owns; a
// folder added by path. File names and quantization suffixes, and the pure family grouping.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLibraryService, type LibraryService } from "../../electron/core/library/library-service.js";
import { groupModelFamilies, type FamilyMember } from "../../electron/core/library/model-family.js";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { quantizationFromFileName, splitPart, stripQuantSuffix } from "../../electron/core/library/quant-names.js";
import { dataPaths } from "../../electron/core/settings/paths.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { writeSplitGguf } from "../fixtures/gguf-split.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import type { ModelSummary } from "../../electron/contract/types.js";
import { QuantaError } from "../../electron/contract/errors.js";

/** These tests need no engine; the fit estimate has its own test against the real one. */
const noEngine = (): Promise<never> => Promise.reject(new QuantaError("engine_unavailable", "no engine in this test"));

describe("file names", () => {
  it("finds the quantization and strips it", () => {
    expect(quantizationFromFileName("Llama-3.2-1B-Instruct-Q4_K_M.gguf")).toBe("Q4_K_M");
    expect(quantizationFromFileName("qwen2.5-0.5b-instruct-q8_0.gguf")).toBe("Q8_0");
    expect(quantizationFromFileName("model.IQ3_XXS.gguf")).toBe("IQ3_XXS");
    expect(quantizationFromFileName("Big-Model-Q6_K-00002-of-00003.gguf")).toBe("Q6_K");
    expect(quantizationFromFileName("phi-3-mini-f16.gguf")).toBe("F16");
    expect(quantizationFromFileName("stories260K.gguf")).toBeNull();
    expect(stripQuantSuffix("Llama-3.2-1B-Instruct-Q4_K_M.gguf")).toBe("Llama-3.2-1B-Instruct");
    expect(stripQuantSuffix("Big-Model-Q6_K-00002-of-00003.gguf")).toBe("Big-Model");
    expect(stripQuantSuffix("stories260K.gguf")).toBe("stories260K");
    expect(splitPart("Big-Model-Q6_K-00002-of-00003.gguf")).toEqual({ stem: "Big-Model-Q6_K.gguf", index: 2, total: 3 });
    expect(splitPart("Big-Model-Q6_K.gguf")).toBeNull();
  });
});

describe("groupModelFamilies", () => {
  const member = (id: string, over: Partial<FamilyMember> = {}): FamilyMember => ({
    id,
    fileName: `${id}.gguf`,
    architecture: "llama",
    vocabSize: 32000,
    tensorSignature: "shapes-a",
    declaredName: "Llama 3 8B",
    ...over,
  });

  it("puts same architecture, vocabulary and tensor shapes together, whatever the names", () => {
    const families = groupModelFamilies([
      member("q4", { fileName: "llama-Q4_K_M.gguf" }),
      member("q8", { fileName: "llama-Q8_0.gguf", declaredName: null }),
      member("other-shapes", { tensorSignature: "shapes-b", declaredName: "Llama 3 70B" }),
      member("other-vocab", { vocabSize: 128256 }),
      member("other-arch", { architecture: "qwen2" }),
    ]);
    expect(families.map((family) => family.memberIds).sort()).toEqual([["other-arch"], ["other-shapes"], ["other-vocab"], ["q4", "q8"]]);
    const main = families.find((family) => family.memberIds.includes("q4"));
    expect(main?.memberIds).toEqual(["q4", "q8"]);
    expect(main?.name).toBe("Llama 3 8B");
    // Ids depend on what the models are, not on the order they were found in.
    const again = groupModelFamilies([member("q8", { fileName: "llama-Q8_0.gguf" }), member("q4", { fileName: "llama-Q4_K_M.gguf" })]);
    expect(again[0]?.id).toBe(main?.id);
  });

  it("groups unreadable files by their name without the quantization", () => {
    const families = groupModelFamilies([
      member("a", { fileName: "Mistral-7B-Q4_K_M.gguf", tensorSignature: null, declaredName: null }),
      member("b", { fileName: "Mistral-7B-Q5_K_S.gguf", tensorSignature: null, declaredName: null }),
      member("c", { fileName: "Other.gguf", tensorSignature: null, declaredName: null }),
    ]);
    expect(families.map((family) => [family.name, family.memberIds])).toEqual([
      ["Mistral-7B", ["a", "b"]],
      ["Other", ["c"]],
    ]);
  });
});

describe("the model library", () => {
  let root: string;
  let service: LibraryService;
  let models: ModelSummary[];
  const env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    root = await tempDir("library");
    const home = path.join(root, "home");
    const own = path.join(home, "models", "someone", "Synth-GGUF");
    const extra = path.join(root, "extra");
    const lmstudio = path.join(root, "lmstudio", "models");
    const ollama = path.join(root, "ollama");
    await Promise.all(
      [own, extra, path.join(lmstudio, "lmstudio-community", "stories"), path.join(ollama, "blobs")].map((d) =>
        fs.mkdir(d, { recursive: true }),
      ),
    );

    // Two quantizations of one synthetic model (same shapes), and a different model.
    await writeSyntheticLlama(path.join(own, "synth-F32.gguf"), { tokenizerFrom: STORIES_MODEL, type: "F32", name: "Synth" });
    await writeSyntheticLlama(path.join(own, "synth-F16.gguf"), { tokenizerFrom: STORIES_MODEL, type: "F16", name: "Synth" });
    await writeSyntheticLlama(path.join(extra, "wider-F32.gguf"), { tokenizerFrom: STORIES_MODEL, embeddingLength: 512, name: "Wider" });
    await writeSplitGguf(TINY_RANDOM_MODEL, extra, "tiny-random-F16", 2);
    await fs.writeFile(path.join(extra, "broken-Q4_K_M.gguf"), "not a model");

    // LM Studio keeps publisher/model/file.gguf.
    await fs.copyFile(STORIES_MODEL, path.join(lmstudio, "lmstudio-community", "stories", "stories260K-F32.gguf"));
    // Ollama: a manifest whose model layer names a blob holding real GGUF bytes.
    const blob = "a".repeat(64);
    await fs.copyFile(STORIES_MODEL, path.join(ollama, "blobs", `sha256-${blob}`));
    const manifestDir = path.join(ollama, "manifests", "registry.ollama.ai", "library", "stories");
    await fs.mkdir(manifestDir, { recursive: true });
    await fs.writeFile(
      path.join(manifestDir, "260k"),
      JSON.stringify({
        schemaVersion: 2,
        layers: [
          { mediaType: "application/vnd.ollama.image.model", digest: `sha256:${blob}`, size: 1185376 },
          { mediaType: "application/vnd.ollama.image.params", digest: `sha256:${"b".repeat(64)}`, size: 10 },
        ],
      }),
    );
    // A manifest pointing at a missing blob, and one that is not JSON: skipped.
    await fs.writeFile(
      path.join(manifestDir, "gone"),
      JSON.stringify({ layers: [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${"c".repeat(64)}` }] }),
    );
    await fs.writeFile(path.join(manifestDir, "junk"), "{");

    Object.assign(env, { QUANTA_MODELS: extra, QUANTA_LMSTUDIO_MODELS: lmstudio, OLLAMA_MODELS: ollama });
    service = await createLibraryService({
      paths: dataPaths(home),
      env,
      emit: () => undefined,
      loadedModelId: () => null,
      engineFit: noEngine,
    });
    await service.start();
    models = service.library.list();
  });

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await service?.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  const byFile = (fileName: string) => {
    const model = models.find((candidate) => candidate.fileName === fileName);
    if (!model) throw new Error(`${fileName} not listed: ${models.map((m) => m.fileName).join(", ")}`);
    return model;
  };

  it("lists every source, each marked with where it came from", () => {
    expect(byFile("synth-F32.gguf").source).toBe("quanta");
    expect(byFile("wider-F32.gguf").source).toBe("folder");
    expect(byFile("stories260K-F32.gguf").source).toBe("lmstudio");
    expect(byFile("stories:260k").source).toBe("ollama");
    expect(models.filter((m) => m.source === "ollama")).toHaveLength(1);
    expect(byFile("broken-Q4_K_M.gguf").error?.code).toBe("model_invalid");
    expect(byFile("synth-F32.gguf").owned).toBe(true);
    expect(
      models
        .filter((m) => m.owned)
        .map((m) => m.fileName)
        .sort(),
    ).toEqual(["synth-F16.gguf", "synth-F32.gguf"]);
  });

  it("groups the quantizations of one model into a family, and only those", () => {
    const f32 = byFile("synth-F32.gguf");
    const f16 = byFile("synth-F16.gguf");
    expect(f32.familyId).toBe(f16.familyId);
    expect(f32.familyName).toBe("Synth");
    expect(byFile("wider-F32.gguf").familyId).not.toBe(f32.familyId);
    // The same bytes found through LM Studio and Ollama are one model: one family.
    expect(byFile("stories260K-F32.gguf").familyId).toBe(byFile("stories:260k").familyId);
    expect(byFile("stories260K-F32.gguf").familyId).not.toBe(f32.familyId);
  });

  it("lists a split GGUF once, with every part's size and tensors", async () => {
    const split = models.filter((m) => m.fileName.startsWith("tiny-random-F16"));
    expect(split.map((m) => m.fileName)).toEqual(["tiny-random-F16-00001-of-00002.gguf"]);
    const model = split[0] as ModelSummary;
    expect(model.parts).toBe(2);
    const whole = await readGgufHeader(TINY_RANDOM_MODEL);
    expect(model.parameterCount).toBe(whole.tensors.reduce((sum, t) => sum + t.elementCount, 0));
    const inspection = await service.api.inspectModel({ modelId: model.id });
    expect(inspection.parts).toBe(2);
    expect(inspection.tensors.map((t) => t.name)).toEqual(whole.tensors.map((t) => t.name));
    // Same model as an unsplit copy would be: the same family as the tiny model in one file.
    expect(inspection.vocabSize).toBe(32000);
  });

  it("inspects a model found in Ollama's store", async () => {
    const inspection = await service.api.inspectModel({ modelId: byFile("stories:260k").id });
    expect(inspection.architecture).toBe("llama");
    expect(inspection.vocabSize).toBe(512);
  });

  it("deletes only what Quanta owns", async () => {
    await expect(service.api.deleteModel({ modelId: byFile("stories260K-F32.gguf").id })).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(service.api.deleteModel({ modelId: byFile("stories:260k").id })).rejects.toMatchObject({ code: "invalid_request" });
    const lmFile = path.join(byFile("stories260K-F32.gguf").folder, "lmstudio-community", "stories", "stories260K-F32.gguf");
    await expect(fs.stat(lmFile)).resolves.toBeTruthy();

    const target = byFile("synth-F16.gguf");
    // Not while it is loaded.
    const guarded = await createLibraryService({
      paths: dataPaths(path.join(root, "home")),
      env,
      emit: () => undefined,
      loadedModelId: () => target.id,
      engineFit: noEngine,
    });
    await guarded.start();
    await expect(guarded.api.deleteModel({ modelId: target.id })).rejects.toMatchObject({ code: "busy" });
    await guarded.dispose();
    await expect(fs.stat(path.join(target.folder, "someone", "Synth-GGUF", "synth-F16.gguf"))).resolves.toBeTruthy();

    const after = await service.api.deleteModel({ modelId: target.id });
    expect(after.some((m) => m.id === target.id)).toBe(false);
    await expect(fs.stat(path.join(target.folder, "someone", "Synth-GGUF", "synth-F16.gguf"))).rejects.toMatchObject({ code: "ENOENT" });
    models = after;
  });

  it("adds a folder the user names, after checking it, and remembers it", async () => {
    await expect(service.api.addModelFolder({ path: "relative/folder" })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(service.api.addModelFolder({ path: path.join(root, "nowhere") })).rejects.toMatchObject({ code: "not_found" });
    const mine = path.join(root, "mine");
    await fs.mkdir(mine);
    await fs.copyFile(STORIES_MODEL, path.join(mine, "my-stories.gguf"));
    const listed = await service.api.addModelFolder({ path: mine });
    expect(listed.find((m) => m.fileName === "my-stories.gguf")?.source).toBe("folder");

    // A new service on the same data folder still knows it.
    const again = await createLibraryService({
      paths: dataPaths(path.join(root, "home")),
      env,
      emit: () => undefined,
      loadedModelId: () => null,
      engineFit: noEngine,
    });
    await again.start();
    expect(again.modelFolders()).toContain(mine);
    expect(again.library.list().some((m) => m.fileName === "my-stories.gguf")).toBe(true);
    await again.api.removeModelFolder({ path: mine });
    expect(again.library.list().some((m) => m.fileName === "my-stories.gguf")).toBe(false);
    await again.dispose();
  });

  it("serves the recommended catalog from resources/", async () => {
    const catalog = await service.api.getModelCatalog();
    expect(catalog.length).toBeGreaterThanOrEqual(3);
    for (const entry of catalog) {
      expect(entry.repo).toMatch(/^[^/]+\/[^/]+$/);
      expect(entry.file).toMatch(/\.gguf$/);
    }
  });

  it("imports files the user chose by copying, moving or linking them into Quanta's folder", async () => {
    const home = path.join(root, "import-home");
    const outside = path.join(root, "downloads-of-mine");
    await fs.mkdir(outside, { recursive: true });
    const files = ["copy-me.gguf", "move-me.gguf", "link-me.gguf"].map((name) => path.join(outside, name));
    for (const file of files) await fs.copyFile(STORIES_MODEL, file);
    await fs.writeFile(path.join(outside, "not-a-model.gguf"), "hello");
    let chosen: string[] = [];
    const revealed: string[] = [];
    const importing = await createLibraryService({
      paths: dataPaths(home),
      env,
      emit: () => undefined,
      loadedModelId: () => null,
      engineFit: noEngine,
      // The user's choice in the desktop app's file dialog, and its file manager.
      pickModelFiles: () => Promise.resolve(chosen),
      revealPath: (file) => revealed.push(file),
    });
    await importing.start();
    const imported = path.join(home, "models", "imported");

    chosen = [files[0] as string];
    const copied = await importing.api.importModels({ mode: "copy" });
    expect(copied.map((m) => [m.fileName, m.owned, m.source])).toEqual([["copy-me.gguf", true, "quanta"]]);
    await expect(fs.stat(files[0] as string)).resolves.toBeTruthy();
    expect((await fs.stat(path.join(imported, "copy-me.gguf"))).size).toBe((await fs.stat(STORIES_MODEL)).size);

    await importing.api.revealModel({ modelId: copied[0]?.id ?? "" });
    expect(revealed).toEqual([path.join(imported, "copy-me.gguf")]);

    chosen = [files[1] as string];
    expect((await importing.api.importModels({ mode: "move" })).map((m) => m.fileName)).toEqual(["move-me.gguf"]);
    await expect(fs.stat(files[1] as string)).rejects.toMatchObject({ code: "ENOENT" });

    chosen = [files[2] as string];
    expect((await importing.api.importModels({ mode: "link" })).map((m) => m.fileName)).toEqual(["link-me.gguf"]);
    expect(await fs.readlink(path.join(imported, "link-me.gguf"))).toBe(files[2]);
    // Deleting a linked model removes the link, never the user's file.
    const linked = importing.library.list().find((m) => m.fileName === "link-me.gguf");
    await importing.api.deleteModel({ modelId: linked?.id ?? "" });
    await expect(fs.stat(files[2] as string)).resolves.toBeTruthy();

    // Not a model, or already there: refused, nothing changed.
    chosen = [path.join(outside, "not-a-model.gguf")];
    await expect(importing.api.importModels({ mode: "copy" })).rejects.toMatchObject({ code: "model_invalid" });
    chosen = [files[0] as string];
    await expect(importing.api.importModels({ mode: "copy" })).rejects.toMatchObject({ code: "busy" });
    chosen = [];
    expect(await importing.api.importModels({ mode: "copy" })).toEqual([]);
    await importing.dispose();

    // Without the desktop shell there is no dialog: the answer says what to do instead.
    await expect(service.api.importModels({ mode: "copy" })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(service.api.revealModel({ modelId: byFile("synth-F32.gguf").id })).rejects.toMatchObject({ code: "invalid_request" });
  });
});
