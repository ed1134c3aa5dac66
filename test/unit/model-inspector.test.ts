// The inspector's figures, checked against values computed here from an independent reading
// of the same headers (node-llama-cpp's readGgufFileInfo) and from what the synthetic writer
// says it wrote; and proof that inspecting reads the header only, never the tensor data.

import { promises as fs } from "node:fs";
import path from "node:path";
import { GgmlType, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelLibrary } from "../../electron/core/library/model-library.js";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { inspectGguf } from "../../electron/core/library/model-inspector.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";

/** Bytes per element of the types these models use (F32, F16): from the GGUF spec, not from our table. */
const ELEMENT_BYTES: Record<number, number> = { 0: 4, 1: 2 };

let dir: string;

beforeAll(async () => {
  dir = await tempDir("inspector");
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function inspectFile(file: string) {
  return inspectGguf({ modelId: "m", fileName: path.basename(file), headers: [await readGgufHeader(file)], readMs: 0 });
}

describe("the inspector on the shared test models", () => {
  for (const file of [STORIES_MODEL, TINY_RANDOM_MODEL]) {
    it(`agrees with node-llama-cpp's reading of ${path.basename(file)}`, async () => {
      const ours = await inspectFile(file);
      const theirs = await readGgufFileInfo(file, { logWarnings: false });
      const tensors = theirs.tensorInfo ?? [];
      const meta = theirs.metadata as unknown as Record<string, Record<string, unknown>>;
      const arch = String(meta.general?.architecture);
      const archMeta = meta[arch] ?? {};

      const elements = tensors.map((t) => t.dimensions.reduce<number>((product, dim) => product * Number(dim), 1));
      const bytes = tensors.map((t, i) => (elements[i] ?? 0) * (ELEMENT_BYTES[t.ggmlType] ?? Number.NaN));
      const parameters = elements.reduce((a, b) => a + b, 0);
      const totalBytes = bytes.reduce((a, b) => a + b, 0);

      expect(ours.architecture).toBe(arch);
      expect(ours.parameterCount).toBe(parameters);
      expect(ours.tensorBytes).toBe(totalBytes);
      expect(ours.bitsPerWeight).toBeCloseTo((8 * totalBytes) / parameters, 10);
      expect(ours.contextLength).toBe(archMeta.context_length);
      // The output layer counted, as llama.cpp counts GPU layers (and as Will it fit does).
      expect(ours.layers).toBe(Number(archMeta.block_count) + 1);
      expect(ours.embeddingLength).toBe(archMeta.embedding_length);
      expect(ours.headCount).toBe(archMeta["attention"] ? (archMeta["attention"] as Record<string, unknown>).head_count : null);
      const tokens = (meta.tokenizer?.ggml as Record<string, unknown> | undefined)?.tokens as unknown[] | undefined;
      expect(ours.vocabSize).toBe(tokens?.length);
      expect(ours.chatTemplate).toBe(typeof meta.tokenizer?.chat_template === "string" ? meta.tokenizer.chat_template : null);
      expect(ours.sizeBytes).toBe((await fs.stat(file)).size);

      // The tensor table, row by row.
      expect(ours.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
      for (const [i, row] of ours.tensors.entries()) {
        expect(row.shape).toEqual(tensors[i]?.dimensions.map(Number));
        expect(row.elements).toBe(elements[i]);
        expect(row.bytes).toBe(bytes[i]);
      }

      // Bytes by type: summed here by ggml type id, compared with the breakdown.
      const byType = new Map<string, number>();
      for (const [i, t] of tensors.entries()) {
        const name = t.ggmlType === GgmlType.F32 ? "F32" : "F16";
        byType.set(name, (byType.get(name) ?? 0) + (bytes[i] ?? 0));
      }
      expect(Object.fromEntries(ours.byType.map((row) => [row.type, row.bytes]))).toEqual(Object.fromEntries(byType));
      expect(ours.byType.reduce((sum, row) => sum + (row.share ?? Number.NaN), 0)).toBeCloseTo(1, 10);
      expect(ours.byType.reduce((sum, row) => sum + row.tensors, 0)).toBe(tensors.length);

      // Every metadata key is listed once, sorted.
      const keys = ours.metadata.map((row) => row.key);
      expect(keys).toEqual([...keys].sort());
      expect(keys).toContain("general.architecture");
      expect(ours.metadata.find((row) => row.key === "general.architecture")?.value).toBe(JSON.stringify(arch));
    });
  }

  it("shows a long token list cut short with its length", async () => {
    const ours = await inspectFile(TINY_RANDOM_MODEL);
    const row = ours.metadata.find((candidate) => candidate.key === "tokenizer.ggml.tokens");
    expect(row?.type).toBe("array of string");
    expect(row?.value).toBe("[32000 items]");
  });
});

describe("the inspector on synthetic models", () => {
  it("computes parameters, bytes by type and bits per weight from what the writer wrote", async () => {
    const file = path.join(dir, "synthetic-f16.gguf");
    const written = await writeSyntheticLlama(file, {
      tokenizerFrom: STORIES_MODEL,
      embeddingLength: 256,
      layers: 3,
      type: "F16",
      contextLength: 1024,
    });
    const ours = await inspectFile(file);

    const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
    const f32 = written.tensors.filter((t) => t.type === "F32").reduce((sum, t) => sum + size(t.dims) * 4, 0);
    const f16 = written.tensors.filter((t) => t.type === "F16").reduce((sum, t) => sum + size(t.dims) * 2, 0);
    expect(ours.parameterCount).toBe(written.parameterCount);
    expect(ours.byType).toEqual([
      {
        type: "F16",
        tensors: written.tensors.filter((t) => t.type === "F16").length,
        elements: f16 / 2,
        bytes: f16,
        share: f16 / (f16 + f32),
      },
      {
        type: "F32",
        tensors: written.tensors.filter((t) => t.type === "F32").length,
        elements: f32 / 4,
        bytes: f32,
        share: f32 / (f16 + f32),
      },
    ]);
    expect(ours.bitsPerWeight).toBeCloseTo((8 * (f16 + f32)) / written.parameterCount, 10);
    // Mostly F16 with F32 norms: a little over 16 bits per weight.
    expect(ours.bitsPerWeight).toBeGreaterThan(16);
    expect(ours.bitsPerWeight).toBeLessThan(16.5);
    expect(ours.layers).toBe(3 + 1);
    expect(ours.contextLength).toBe(1024);
    expect(ours.embeddingLength).toBe(256);
    expect(ours.feedForwardLength).toBe(512);
    expect(ours.headCount).toBe(4);
    expect(ours.vocabSize).toBe(written.vocabSize);
    expect(ours.fileType).toBe("F16");
    expect(ours.name).toBe("synthetic-llama");
  });

  it("reads only the header: a model whose file is 8 GiB larger reads the same few bytes", async () => {
    const file = path.join(dir, "sparse.gguf");
    await writeSyntheticLlama(file, { tokenizerFrom: STORIES_MODEL, embeddingLength: 512, layers: 4 });
    const header = await readGgufHeader(file);
    const dataBytes = header.fileSize - header.dataOffset;

    // Count every byte any FileHandle reads while the library scans and inspects the model.
    const probe = await fs.open(file, "r");
    const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
    await probe.close();
    const original = proto.read;
    let bytesRead = 0;
    proto.read = async function (this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      bytesRead += result.bytesRead;
      return result;
    };
    try {
      // A hole of 8 GiB after the tensor data: the file is now "multi-gigabyte" on disk.
      await fs.truncate(file, header.fileSize + 8 * 1024 ** 3);
      const library = new ModelLibrary(() => [{ kind: "folder", source: "folder", folder: dir }]);
      const [model] = (await library.scan()).filter((m) => m.fileName === "sparse.gguf");
      bytesRead = 0;
      const inspection = await library.inspect(model?.id ?? "");
      expect(inspection.sizeBytes).toBe(header.fileSize + 8 * 1024 ** 3);
      expect(inspection.tensors.length).toBe(header.tensors.length);
      // The header and at most one read-ahead chunk past it; never the data (several MB here).
      expect(bytesRead).toBeGreaterThan(header.dataOffset - header.alignment);
      expect(bytesRead).toBeLessThanOrEqual(header.dataOffset + 64 * 1024);
      expect(bytesRead).toBeLessThan(dataBytes / 10);
    } finally {
      proto.read = original;
      await fs.rm(file, { force: true });
    }
  });

  it("opens a 155 GB model (weights left as a hole) from its header", async () => {
    const file = path.join(dir, "huge-F16.gguf");
    const written = await writeSyntheticLlama(file, {
      tokenizerFrom: STORIES_MODEL,
      embeddingLength: 8192,
      feedForwardLength: 28672,
      layers: 80,
      type: "F16",
      dataless: true,
    });
    try {
      const ours = await inspectFile(file);
      const f16Bytes = written.tensors.filter((t) => t.type === "F16").reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1) * 2, 0);
      expect(ours.parameterCount).toBe(written.parameterCount);
      expect(ours.parameterCount).toBeGreaterThan(77e9);
      expect(ours.byType[0]).toMatchObject({ type: "F16", bytes: f16Bytes });
      expect(ours.sizeBytes).toBeGreaterThan(150e9);
    } finally {
      await fs.rm(file, { force: true });
    }
  });
});
