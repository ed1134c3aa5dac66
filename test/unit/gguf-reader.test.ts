// Our GGUF header reader against node-llama-cpp's own parser (an independent implementation)
// on the real test models, and against damaged files, which must all fail as "model_invalid"
// with a message naming the file, never as a RangeError or a hang.

import { copyFile, mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GgmlType, GgufFileType, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QuantaError } from "../../electron/contract/errors.js";
import { GGUF_LIMITS, describeGguf, readGgufHeader, type GgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import {
  GGML_TYPES,
  LLAMA_FILE_TYPES,
  ggufArrayLength,
  isGgufArraySummary,
  type GgufValue,
} from "../../electron/common-node/gguf/gguf-types.js";
import { writeGguf, type GgufTensorSpec, type GgufTypedValue } from "../fixtures/gguf-writer.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL } from "../support/paths.js";

const stories = STORIES_MODEL;
const tinyLlama2 = TINY_RANDOM_MODEL;

let tempDir = "";
beforeAll(async () => {
  tempDir = await mkdtemp(path.join(tmpdir(), "quanta-gguf-reader-"));
});
afterAll(async () => {
  if (tempDir !== "") await rm(tempDir, { recursive: true, force: true });
});

/** Reads a value out of node-llama-cpp's nested metadata by its flat GGUF key. */
function nestedValue(metadata: unknown, key: string): unknown {
  let node: unknown = metadata;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

async function expectModelInvalid(file: string, pattern?: RegExp): Promise<QuantaError> {
  let caught: unknown;
  try {
    await readGgufHeader(file);
  } catch (error) {
    caught = error;
  }
  expect(caught, `reading ${path.basename(file)} should fail`).toBeInstanceOf(QuantaError);
  const error = caught as QuantaError;
  expect(error.code).toBe("model_invalid");
  expect(error.message.startsWith(path.basename(file))).toBe(true);
  if (pattern !== undefined) expect(error.message).toMatch(pattern);
  return error;
}

/** A small valid GGUF with a bit of everything, for the damage tests. */
async function writeSmallGguf(file: string, extraMetadata: Array<[string, GgufTypedValue]> = []): Promise<void> {
  const tensors: GgufTensorSpec[] = [
    { name: "alpha.weight", dims: [32, 4], type: "F32", data: (chunk, start) => chunk.forEach((_, i) => (chunk[i] = start + i)) },
    { name: "beta.weight", dims: [8], type: "F16" },
  ];
  await writeGguf(file, {
    metadata: [
      ["general.architecture", { type: "string", value: "llama" }],
      ["general.name", { type: "string", value: "small" }],
      ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: ["<unk>", "a", "b", "c"] }],
      ["tokenizer.ggml.scores", { type: "array", itemType: "float32", value: [0, -1, -2, -3] }],
      ...extraMetadata,
    ],
    tensors,
  });
}

describe("readGgufHeader on the test models", () => {
  for (const file of [stories, tinyLlama2]) {
    const fileName = path.basename(file);

    it(`${fileName}: agrees with node-llama-cpp's parser`, async () => {
      const ours = await readGgufHeader(file, { keepArraysUpTo: Infinity });
      const theirs = await readGgufFileInfo(file, { logWarnings: false });

      expect(ours.version).toBe(theirs.version);
      expect(ours.tensors.length).toBe(Number(theirs.tensorCount));
      expect(ours.dataOffset).toBe(theirs.infoEndOffset);

      const theirTensors = theirs.tensorInfo ?? [];
      expect(ours.tensors.map((t) => t.name)).toEqual(theirTensors.map((t) => t.name));
      for (const [index, tensor] of ours.tensors.entries()) {
        const their = theirTensors[index];
        expect(tensor.dims).toEqual(their?.dimensions.map(Number));
        expect(tensor.typeId).toBe(their?.ggmlType);
        expect(tensor.type).toBe(GgmlType[tensor.typeId]);
        expect(tensor.offset).toBe(Number(their?.offset));
        expect(ours.dataOffset + tensor.offset).toBe(Number(their?.fileOffset));
      }
      const theirParameters = theirTensors.reduce((sum, t) => sum + t.dimensions.reduce<number>((p, d) => p * Number(d), 1), 0);
      expect(describeGguf(ours, file).parameterCount).toBe(theirParameters);

      // Every metadata value, arrays included, is what node-llama-cpp read.
      for (const [key, value] of Object.entries(ours.metadata)) {
        expect(value, key).toEqual(nestedValue(theirs.metadata, key));
      }
    });

    it(`${fileName}: summarizes long arrays unless asked for them`, async () => {
      const summarized = await readGgufHeader(file);
      const tokens = summarized.metadata["tokenizer.ggml.tokens"];
      expect(isGgufArraySummary(tokens)).toBe(true);
      expect(tokens).toEqual({ type: "array", itemType: "string", length: fileName === "stories260K.gguf" ? 512 : 32000 });
      expect(summarized.metadataTypes["tokenizer.ggml.scores"]).toEqual({ type: "array", itemType: "float32" });
      // Skipping the arrays lands on the same tensor table as reading them.
      const full = await readGgufHeader(file, { keepArraysUpTo: Infinity });
      expect(summarized.tensors).toEqual(full.tensors);
      expect(summarized.dataOffset).toBe(full.dataOffset);
      expect(Array.isArray(full.metadata["tokenizer.ggml.tokens"])).toBe(true);
    });
  }

  it("stories260K.gguf: matches the facts in the models README", async () => {
    const header = await readGgufHeader(stories);
    const info = describeGguf(header, stories);
    expect(header.fileSize).toBe(1185376);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(info).toMatchObject({
      architecture: "llama",
      name: "stories260K", // its general.name is only "llama", the architecture: the file name says more
      fileType: "F32", // no general.file_type in this file: derived from its tensors
      layers: 5,
      embeddingLength: 64,
      contextLength: 2048,
      vocabSize: 512,
      hasChatTemplate: false,
      bitsPerWeight: 32,
    });
    expect(header.metadata["llama.feed_forward_length"]).toBe(172);
    expect(header.tensors).toHaveLength(48);
    expect(header.tensors.every((t) => t.type === "F32")).toBe(true);
    expect(info.parameterCount).toBe(292800); // "about 0.29 M parameters"
    expect(info.bytesByType).toEqual({ F32: 4 * 292800 });
    // The last tensor ends exactly at the end of the file.
    const last = header.tensors.reduce((a, b) => (a.offset > b.offset ? a : b));
    expect(header.dataOffset + last.offset + (last.byteSize ?? Number.NaN)).toBe(header.fileSize);
  });

  it("llama-2-tiny-random.gguf: matches the facts in the models README", async () => {
    const header = await readGgufHeader(tinyLlama2);
    const info = describeGguf(header, tinyLlama2);
    expect(header.fileSize).toBe(1750560);
    expect(info).toMatchObject({
      architecture: "llama",
      name: "LLaMA v2",
      fileType: "F16", // general.file_type = 1
      layers: 1,
      embeddingLength: 8,
      contextLength: 4096,
      vocabSize: 32000,
      hasChatTemplate: false,
    });
    expect(header.metadata["general.file_type"]).toBe(1);
    // Norms stay F32 in an F16 file.
    expect(Object.keys(info.bytesByType).sort()).toEqual(["F16", "F32"]);
    expect(info.bitsPerWeight).toBeGreaterThan(16);
    expect(info.bitsPerWeight).toBeLessThan(16.01);
  });
});

describe("type tables", () => {
  it("tensor type ids and names are ggml's (node-llama-cpp's GgmlType)", () => {
    for (const traits of GGML_TYPES) expect(GgmlType[traits.id], traits.name).toBe(traits.name);
    for (const traits of GGML_TYPES) {
      // No type takes more than 8 bytes per element (F64, I64).
      expect(traits.bytesPerBlock).toBeLessThanOrEqual(traits.blockSize * 8);
    }
  });

  it("file type names are llama.cpp's LLAMA_FTYPE_* (node-llama-cpp's GgufFileType)", () => {
    for (const [id, name] of LLAMA_FILE_TYPES) {
      expect(GgufFileType[id], `file type ${id}`).toBe(id === 0 ? "ALL_F32" : `MOSTLY_${name}`);
    }
    // and we know every file type node-llama-cpp knows
    const theirIds = Object.values(GgufFileType).filter((v): v is number => typeof v === "number");
    for (const id of theirIds) expect(LLAMA_FILE_TYPES.has(id), `file type ${id}`).toBe(true);
  });
});

describe("readGgufHeader on synthetic files", () => {
  it("reads every value type, nested arrays and 64-bit integers", async () => {
    const file = path.join(tempDir, "values.gguf");
    const bigU = 2n ** 60n + 1n;
    const bigI = -(2n ** 62n);
    const metadata: Array<[string, GgufTypedValue]> = [
      ["v.uint8", { type: "uint8", value: 255 }],
      ["v.int8", { type: "int8", value: -128 }],
      ["v.uint16", { type: "uint16", value: 65535 }],
      ["v.int16", { type: "int16", value: -32768 }],
      ["v.uint32", { type: "uint32", value: 4294967295 }],
      ["v.int32", { type: "int32", value: -2147483648 }],
      ["v.float32", { type: "float32", value: 0.5 }],
      ["v.float64", { type: "float64", value: Math.PI }],
      ["v.bool", { type: "bool", value: true }],
      ["v.string", { type: "string", value: "héllo, 世界" }],
      ["v.empty", { type: "string", value: "" }],
      ["v.uint64.small", { type: "uint64", value: 42 }],
      ["v.uint64.big", { type: "uint64", value: bigU }],
      ["v.int64.big", { type: "int64", value: bigI }],
      ["v.array.int32", { type: "array", itemType: "int32", value: [1, -2, 3] }],
      ["v.array.bool", { type: "array", itemType: "bool", value: [true, false] }],
      ["v.array.uint64", { type: "array", itemType: "uint64", value: [1, bigU] }],
      ["v.array.empty", { type: "array", itemType: "string", value: [] }],
      [
        "v.array.nested",
        {
          type: "array",
          itemType: "array",
          value: [
            { type: "array", itemType: "string", value: ["x", "y"] },
            { type: "array", itemType: "float64", value: [1.5] },
          ],
        },
      ],
      ["v.array.long", { type: "array", itemType: "uint16", value: Array.from({ length: 100 }, (_, i) => i) }],
      ["v.array.long.strings", { type: "array", itemType: "string", value: Array.from({ length: 100 }, (_, i) => `s${i}`) }],
      ["__proto__", { type: "string", value: "not a prototype" }],
      ["constructor", { type: "uint32", value: 7 }],
    ];
    await writeGguf(file, { metadata, tensors: [{ name: "t", dims: [4], type: "F32" }] });

    const header = await readGgufHeader(file);
    const expected: Record<string, GgufValue> = {
      "v.uint8": 255,
      "v.int8": -128,
      "v.uint16": 65535,
      "v.int16": -32768,
      "v.uint32": 4294967295,
      "v.int32": -2147483648,
      "v.float32": 0.5,
      "v.float64": Math.PI,
      "v.bool": true,
      "v.string": "héllo, 世界",
      "v.empty": "",
      "v.uint64.small": 42,
      "v.uint64.big": bigU,
      "v.int64.big": bigI,
      "v.array.int32": [1, -2, 3],
      "v.array.bool": [true, false],
      "v.array.uint64": [1, bigU],
      "v.array.empty": [],
      "v.array.nested": [["x", "y"], [1.5]],
      "v.array.long": { type: "array", itemType: "uint16", length: 100 },
      "v.array.long.strings": { type: "array", itemType: "string", length: 100 },
    };
    for (const [key, value] of Object.entries(expected)) expect(header.metadata[key], key).toEqual(value);
    expect(header.metadataTypes["v.uint64.small"]).toEqual({ type: "uint64" });
    expect(header.metadataTypes["v.array.nested"]).toEqual({ type: "array", itemType: "array" });

    // "__proto__" is an ordinary key of a null-prototype object; nothing is polluted.
    expect(Object.getPrototypeOf(header.metadata)).toBeNull();
    expect(Object.hasOwn(header.metadata, "__proto__")).toBe(true);
    expect(header.metadata["__proto__"]).toBe("not a prototype");
    expect(header.metadata["constructor"]).toBe(7);
    expect(({} as Record<string, unknown>)["v.string"]).toBeUndefined();

    const everything = await readGgufHeader(file, { keepArraysUpTo: Infinity });
    expect(everything.metadata["v.array.long"]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(ggufArrayLength(everything.metadata["v.array.long.strings"])).toBe(100);
    const nothing = await readGgufHeader(file, { keepArraysUpTo: 0 });
    expect(nothing.metadata["v.array.int32"]).toEqual({ type: "array", itemType: "int32", length: 3 });
    expect(nothing.metadata["v.array.empty"]).toEqual([]);
    expect(nothing.tensors).toEqual(header.tensors);
  });

  it("honours general.alignment and describes files without general.name or file_type", async () => {
    const file = path.join(tempDir, "My-Model.Q8.gguf");
    await writeGguf(file, {
      metadata: [
        ["general.architecture", { type: "string", value: "llama" }],
        ["tokenizer.chat_template", { type: "string", value: "{{ messages }}" }],
      ],
      tensors: [
        { name: "a", dims: [3], type: "F32" },
        { name: "b", dims: [256, 2], type: "F16" },
      ],
      alignment: 64,
    });
    const header = await readGgufHeader(file);
    expect(header.alignment).toBe(64);
    expect(header.metadata["general.alignment"]).toBe(64);
    expect(header.dataOffset % 64).toBe(0);
    expect(header.tensors.map((t) => t.offset)).toEqual([0, 64]);
    const info = describeGguf(header, file);
    expect(info).toMatchObject({ name: "My-Model.Q8", fileType: "F16", hasChatTemplate: true, parameterCount: 515, contextLength: null });
    expect(info.bytesByType).toEqual({ F32: 12, F16: 1024 });
  });

  it("reads a header with no tensors (vocabulary-only files)", async () => {
    const file = path.join(tempDir, "vocab-only.gguf");
    await writeGguf(file, { metadata: [["general.architecture", { type: "string", value: "llama" }]], tensors: [] });
    const header = await readGgufHeader(file);
    expect(header.tensors).toEqual([]);
    // llama.cpp starts no data section when there are no tensors; its writer still pads.
    expect(header.fileSize - header.dataOffset).toBeGreaterThanOrEqual(0);
    expect(header.fileSize - header.dataOffset).toBeLessThan(32);
    expect(describeGguf(header, file)).toMatchObject({ parameterCount: 0, bitsPerWeight: 0, fileType: "unknown" });
  });
});

describe("readGgufHeader on damaged files", () => {
  it("rejects a text file named .gguf", async () => {
    const file = path.join(tempDir, "notes.gguf");
    await writeFile(file, "These are my notes, not a model.\n");
    await expectModelInvalid(file, /not a GGUF file \(it does not start with the GGUF signature\)/);
  });

  it("rejects an empty file", async () => {
    const file = path.join(tempDir, "empty.gguf");
    await writeFile(file, "");
    await expectModelInvalid(file, /is empty/);
  });

  it("rejects a file shorter than the signature", async () => {
    const file = path.join(tempDir, "tiny.gguf");
    await writeFile(file, "GG");
    await expectModelInvalid(file, /too short/);
  });

  it("recognizes Git LFS pointers, web pages and the old GGML format", async () => {
    const lfs = path.join(tempDir, "lfs.gguf");
    await writeFile(lfs, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1185376\n");
    await expectModelInvalid(lfs, /Git LFS pointer/);
    const html = path.join(tempDir, "page.gguf");
    await writeFile(html, "<!DOCTYPE html><html><body>Not found</body></html>");
    await expectModelInvalid(html, /web page/);
    const ggjt = path.join(tempDir, "old.gguf");
    const bytes = Buffer.alloc(64);
    bytes.writeUInt32LE(0x67676a74, 0);
    await writeFile(ggjt, bytes);
    await expectModelInvalid(ggjt, /old GGML format/);
  });

  it("reports a copy with its header intact and its data cut as truncated", async () => {
    const file = path.join(tempDir, "stories-cut.gguf");
    await copyFile(stories, file);
    await truncate(file, 200_000);
    await expectModelInvalid(file, /^stories-cut\.gguf is truncated: its tensors need 1185376 bytes but the file has 200000\.$/);
  });

  it("reports a file cut in the middle of its metadata as truncated", async () => {
    const file = path.join(tempDir, "stories-header-cut.gguf");
    await copyFile(stories, file);
    await truncate(file, 3000);
    await expectModelInvalid(file, /truncated/);
    for (const length of [4, 10, 24, 30, 14000, 14176]) {
      await copyFile(stories, file);
      await truncate(file, length);
      await expectModelInvalid(file, /truncated/);
    }
  });

  it("rejects wrong versions, naming big-endian files and GGUF v1", async () => {
    const file = path.join(tempDir, "version.gguf");
    const original = await readFile(stories);
    const cases: Array<[number, RegExp]> = [
      [99, /GGUF version 99/],
      [0, /GGUF version 0/],
      [1, /version 1, which llama.cpp no longer reads/],
      [0x03000000, /big-endian/],
    ];
    for (const [version, pattern] of cases) {
      const bytes = Buffer.from(original);
      bytes.writeUInt32LE(version, 4);
      await writeFile(file, bytes);
      await expectModelInvalid(file, pattern);
    }
  });

  it("rejects absurd tensor and metadata counts", async () => {
    const file = path.join(tempDir, "counts.gguf");
    const original = await readFile(stories);
    for (const [at, count] of [
      [8, 2n ** 40n],
      [8, 2n ** 64n - 1n],
      [8, 999_999n],
      [16, 5_000_000n],
      [16, 100_000n],
    ] as const) {
      const bytes = Buffer.from(original);
      bytes.writeBigUInt64LE(count, at);
      await writeFile(file, bytes);
      await expectModelInvalid(file, /damaged/);
    }
  });

  it("rejects a string length past the end of the file", async () => {
    const file = path.join(tempDir, "string-past-eof.gguf");
    await writeSmallGguf(file);
    const bytes = await readFile(file);
    // The first metadata key's length prefix sits right after magic, version and the two counts.
    for (const length of [BigInt(bytes.length), 2n ** 26n + 1n, 2n ** 63n]) {
      bytes.writeBigUInt64LE(length, 24);
      await writeFile(file, bytes);
      await expectModelInvalid(file, /string/);
    }
  });

  it("rejects damaged tensor infos", async () => {
    const file = path.join(tempDir, "tensor-info.gguf");
    await writeSmallGguf(file);
    const original = await readFile(file);
    // alpha.weight: name, n_dims (u32), dims (2 × u64), type (u32), offset (u64)
    const name = Buffer.from("alpha.weight");
    const at = original.indexOf(name) + name.length;
    const patch = async (edit: (bytes: Buffer) => void, pattern: RegExp): Promise<void> => {
      const bytes = Buffer.from(original);
      edit(bytes);
      await writeFile(file, bytes);
      await expectModelInvalid(file, pattern);
    };
    await patch((b) => b.writeUInt32LE(0, at), /0 dimensions/);
    await patch((b) => b.writeUInt32LE(7, at), /7 dimensions/);
    await patch((b) => b.writeBigUInt64LE(0n, at + 4), /invalid size/);
    await patch((b) => b.writeBigUInt64LE(2n ** 62n, at + 12), /invalid size|more elements/);
    await patch((b) => b.writeUInt32LE(31, at + 20), /Q4_0_4_4.*no longer supports/);
    await patch((b) => b.writeUInt32LE(12, at + 20), /not a multiple of that type's block size 256/); // Q4_K rows of 32
    await patch((b) => b.writeBigUInt64LE(4n, at + 24), /not a multiple of the alignment 32/);
    await patch(
      (b) => b.writeBigUInt64LE(2n ** 50n, at + 24),
      /is truncated: its tensors need 11258999068\d{5} bytes but the file has \d+\./,
    );
    await patch((b) => b.writeBigUInt64LE(2n ** 60n, at + 24), /invalid data offset/);
    await patch((b) => b.writeBigUInt64LE(64n, at + 24), /is truncated: its tensors need/);
    // beta.weight (offset 512, after alpha's 32 × 4 floats) moved on top of alpha.weight
    const beta = Buffer.from("beta.weight");
    const betaOffsetAt = original.indexOf(beta) + beta.length + 4 + 8 + 4;
    expect(original.readBigUInt64LE(betaOffsetAt)).toBe(512n);
    await patch((b) => b.writeBigUInt64LE(480n, betaOffsetAt), /"alpha\.weight" and "beta\.weight" overlap/);
  });

  it("reads a file with a tensor type it does not know: the type is unknown with its id, the size null", async () => {
    const file = path.join(tempDir, "unknown-type.gguf");
    await writeSmallGguf(file);
    const bytes = await readFile(file);
    const name = Buffer.from("alpha.weight");
    bytes.writeUInt32LE(1000, bytes.indexOf(name) + name.length + 20); // after n_dims and 2 dims
    await writeFile(file, bytes);
    const header = await readGgufHeader(file);
    const alpha = header.tensors.find((tensor) => tensor.name === "alpha.weight");
    expect(alpha).toMatchObject({ type: null, typeId: 1000, byteSize: null, elementCount: 128, dims: [32, 4] });
    expect(header.tensors.find((tensor) => tensor.name === "beta.weight")).toMatchObject({ type: "F16", byteSize: 16 });
    const description = describeGguf(header, file);
    // Never a fake total: the bytes (and bits per weight) are unknown, the parameters are not.
    expect(description).toMatchObject({ tensorBytes: null, bitsPerWeight: null, parameterCount: 136, unknownTensorTypes: [1000] });
    expect(description.bytesByType).toEqual({ F16: 16 });
  });

  it("rejects duplicate keys, bad alignments and unknown value types", async () => {
    const dup = path.join(tempDir, "duplicate.gguf");
    await writeSmallGguf(dup, [["general.name", { type: "string", value: "again" }]]);
    await expectModelInvalid(dup, /"general\.name" appears twice/);

    const badAlignment = path.join(tempDir, "alignment.gguf");
    await writeSmallGguf(badAlignment, [["general.alignment", { type: "uint32", value: 48 }]]);
    await expectModelInvalid(badAlignment, /not a power of two/);
    await writeSmallGguf(badAlignment, [["general.alignment", { type: "string", value: "32" }]]);
    await expectModelInvalid(badAlignment, /must be a uint32/);

    const badType = path.join(tempDir, "value-type.gguf");
    await writeSmallGguf(badType);
    const bytes = await readFile(badType);
    const key = Buffer.from("general.architecture");
    bytes.writeUInt32LE(13, bytes.indexOf(key) + key.length);
    await writeFile(badType, bytes);
    await expectModelInvalid(badType, /unknown value type \(id 13\)/);
  });

  it("rejects arrays nested too deep and arrays longer than the file", async () => {
    const file = path.join(tempDir, "arrays.gguf");
    let nested: GgufTypedValue & { type: "array" } = { type: "array", itemType: "uint8", value: [1] };
    for (let depth = 0; depth < GGUF_LIMITS.maxArrayDepth + 1; depth++) nested = { type: "array", itemType: "array", value: [nested] };
    await writeSmallGguf(file, [["deep", nested]]);
    await expectModelInvalid(file, /nests arrays/);

    await writeSmallGguf(file);
    const bytes = await readFile(file);
    const key = Buffer.from("tokenizer.ggml.scores");
    bytes.writeBigUInt64LE(10_000_000n, bytes.indexOf(key) + key.length + 8); // after type and item type
    await writeFile(file, bytes);
    await expectModelInvalid(file, /array of 10000000 items/);
  });

  it("reports a missing file as not_found and a folder as model_invalid", async () => {
    await expect(readGgufHeader(path.join(tempDir, "missing.gguf"))).rejects.toMatchObject({ code: "not_found" });
    const folder = path.join(tempDir, "folder.gguf");
    await mkdir(folder);
    await expectModelInvalid(folder);
  });

  it("never throws anything but model_invalid on randomly damaged headers", async () => {
    const source = path.join(tempDir, "fuzz-source.gguf");
    await writeSmallGguf(source, [
      ["nested", { type: "array", itemType: "array", value: [{ type: "array", itemType: "int64", value: [1n, -1n] }] }],
    ]);
    const original = await readFile(source);
    const header = await readGgufHeader(source);
    const file = path.join(tempDir, "fuzz.gguf");
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let rejected = 0;
    for (let round = 0; round < 400; round++) {
      const bytes = Buffer.from(original);
      const flips = 1 + random(4);
      for (let i = 0; i < flips; i++) bytes[random(header.dataOffset)] = random(256);
      const cut = round % 5 === 0 ? random(bytes.length) : bytes.length;
      await writeFile(file, bytes.subarray(0, cut));
      try {
        await readGgufHeader(file);
      } catch (error) {
        rejected++;
        expect(error).toBeInstanceOf(QuantaError);
        expect((error as QuantaError).code).toBe("model_invalid");
        expect((error as QuantaError).message.startsWith("fuzz.gguf ")).toBe(true);
      }
    }
    expect(rejected).toBeGreaterThan(50);
  });
});

describe("readGgufHeader reads only what it needs", () => {
  it("opens a large file without reading its tensor data", async () => {
    // A 4 GiB sparse file: header from stories260K, tensor data "present" but never written.
    const file = path.join(tempDir, "sparse-large.gguf");
    const original = await readFile(stories);
    const header: GgufHeader = await readGgufHeader(stories);
    const handle = await open(file, "w");
    try {
      await handle.write(original.subarray(0, header.dataOffset), 0, header.dataOffset, 0);
    } finally {
      await handle.close();
    }
    await truncate(file, 4 * 1024 ** 3);
    const started = performance.now();
    const read = await readGgufHeader(file);
    const elapsed = performance.now() - started;
    expect(read.fileSize).toBe(4 * 1024 ** 3);
    expect(read.tensors).toEqual(header.tensors);
    expect(elapsed).toBeLessThan(1000);
  });
});
