// The GGUF format's vocabulary, shared by every process that reads model files: metadata value
// types, ggml's tensor types with their block sizes, and llama.cpp's file types. Tables only.

// ---------------------------------------------------------------------------------------------
// Value types

/** GGUF metadata value types, indexed by their id in the file (gguf_type in gguf.h). */
export const GGUF_VALUE_TYPES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
] as const;

export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
export type GgufScalarType = Exclude<GgufValueType, "array">;

/**
 * A metadata value. Integers of up to 32 bits and floats are numbers. uint64 and int64 are
 * numbers when they fit Number.MAX_SAFE_INTEGER (every count or id a real model holds) and
 * bigints otherwise, so no value is silently rounded; `metadataTypes` keeps the declared type.
 * Arrays longer than `keepArraysUpTo` are a GgufArraySummary instead of their items.
 */
export type GgufValue = number | bigint | boolean | string | GgufValue[] | GgufArraySummary;

/** Stands in for an array that was skipped over rather than materialized. */
export interface GgufArraySummary {
  readonly type: "array";
  readonly itemType: GgufValueType;
  readonly length: number;
}

/** The declared type of one metadata key; itemType only for arrays. */
export interface GgufValueTypeInfo {
  readonly type: GgufValueType;
  readonly itemType?: GgufValueType;
}

export function isGgufArraySummary(value: unknown): value is GgufArraySummary {
  return typeof value === "object" && value !== null && !Array.isArray(value) && (value as { type?: unknown }).type === "array";
}

/** Length of an array value, whether it was materialized or summarized; null for non-arrays. */
export function ggufArrayLength(value: GgufValue | undefined): number | null {
  if (Array.isArray(value)) return value.length;
  if (isGgufArraySummary(value)) return value.length;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Tensor types

export interface GgmlTypeTraits {
  readonly id: number;
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes one block takes in the file. */
  readonly bytesPerBlock: number;
}

/**
 * Every ggml tensor type llama.cpp can load. Ids from ggml.h (GGML_TYPE_*), block sizes from
 * gguf-py's GGML_QUANT_SIZES, both checked against ggml_blck_size/ggml_type_size of the
 * llama.cpp build node-llama-cpp 3.22.1 ships (test/integration/synthetic-gguf.test.ts).
 */
export const GGML_TYPES = [
  { id: 0, name: "F32", blockSize: 1, bytesPerBlock: 4 },
  { id: 1, name: "F16", blockSize: 1, bytesPerBlock: 2 },
  { id: 2, name: "Q4_0", blockSize: 32, bytesPerBlock: 18 },
  { id: 3, name: "Q4_1", blockSize: 32, bytesPerBlock: 20 },
  { id: 6, name: "Q5_0", blockSize: 32, bytesPerBlock: 22 },
  { id: 7, name: "Q5_1", blockSize: 32, bytesPerBlock: 24 },
  { id: 8, name: "Q8_0", blockSize: 32, bytesPerBlock: 34 },
  { id: 9, name: "Q8_1", blockSize: 32, bytesPerBlock: 36 },
  { id: 10, name: "Q2_K", blockSize: 256, bytesPerBlock: 84 },
  { id: 11, name: "Q3_K", blockSize: 256, bytesPerBlock: 110 },
  { id: 12, name: "Q4_K", blockSize: 256, bytesPerBlock: 144 },
  { id: 13, name: "Q5_K", blockSize: 256, bytesPerBlock: 176 },
  { id: 14, name: "Q6_K", blockSize: 256, bytesPerBlock: 210 },
  { id: 15, name: "Q8_K", blockSize: 256, bytesPerBlock: 292 },
  { id: 16, name: "IQ2_XXS", blockSize: 256, bytesPerBlock: 66 },
  { id: 17, name: "IQ2_XS", blockSize: 256, bytesPerBlock: 74 },
  { id: 18, name: "IQ3_XXS", blockSize: 256, bytesPerBlock: 98 },
  { id: 19, name: "IQ1_S", blockSize: 256, bytesPerBlock: 50 },
  { id: 20, name: "IQ4_NL", blockSize: 32, bytesPerBlock: 18 },
  { id: 21, name: "IQ3_S", blockSize: 256, bytesPerBlock: 110 },
  { id: 22, name: "IQ2_S", blockSize: 256, bytesPerBlock: 82 },
  { id: 23, name: "IQ4_XS", blockSize: 256, bytesPerBlock: 136 },
  { id: 24, name: "I8", blockSize: 1, bytesPerBlock: 1 },
  { id: 25, name: "I16", blockSize: 1, bytesPerBlock: 2 },
  { id: 26, name: "I32", blockSize: 1, bytesPerBlock: 4 },
  { id: 27, name: "I64", blockSize: 1, bytesPerBlock: 8 },
  { id: 28, name: "F64", blockSize: 1, bytesPerBlock: 8 },
  { id: 29, name: "IQ1_M", blockSize: 256, bytesPerBlock: 56 },
  { id: 30, name: "BF16", blockSize: 1, bytesPerBlock: 2 },
  { id: 34, name: "TQ1_0", blockSize: 256, bytesPerBlock: 54 },
  { id: 35, name: "TQ2_0", blockSize: 256, bytesPerBlock: 66 },
  { id: 39, name: "MXFP4", blockSize: 32, bytesPerBlock: 17 },
  { id: 40, name: "NVFP4", blockSize: 64, bytesPerBlock: 36 },
  { id: 41, name: "Q1_0", blockSize: 128, bytesPerBlock: 18 },
  { id: 42, name: "Q2_0", blockSize: 64, bytesPerBlock: 18 },
] as const satisfies readonly GgmlTypeTraits[];

export type GgufTensorType = (typeof GGML_TYPES)[number]["name"];

export const GGML_TYPE_BY_ID: ReadonlyMap<number, (typeof GGML_TYPES)[number]> = new Map(GGML_TYPES.map((traits) => [traits.id, traits]));

export const GGML_TYPE_BY_NAME: ReadonlyMap<GgufTensorType, (typeof GGML_TYPES)[number]> = new Map(
  GGML_TYPES.map((traits) => [traits.name, traits]),
);

/** Ids ggml once had and removed; files using them cannot be loaded any more. */
export const REMOVED_GGML_TYPES: ReadonlyMap<number, string> = new Map([
  [4, "Q4_2"],
  [5, "Q4_3"],
  [31, "Q4_0_4_4"],
  [32, "Q4_0_4_8"],
  [33, "Q4_0_8_8"],
  [36, "IQ4_NL_4_4"],
  [37, "IQ4_NL_4_8"],
  [38, "IQ4_NL_8_8"],
]);

/**
 * llama.cpp's file types (LLAMA_FTYPE_* in llama.h, the value of general.file_type), by the
 * name llama-quantize uses. 4 to 6 and 33 to 35 were removed from llama.cpp and are named
 * only so an old file can be described.
 */
export const LLAMA_FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, "F32"],
  [1, "F16"],
  [2, "Q4_0"],
  [3, "Q4_1"],
  [4, "Q4_1_SOME_F16"],
  [5, "Q4_2"],
  [6, "Q4_3"],
  [7, "Q8_0"],
  [8, "Q5_0"],
  [9, "Q5_1"],
  [10, "Q2_K"],
  [11, "Q3_K_S"],
  [12, "Q3_K_M"],
  [13, "Q3_K_L"],
  [14, "Q4_K_S"],
  [15, "Q4_K_M"],
  [16, "Q5_K_S"],
  [17, "Q5_K_M"],
  [18, "Q6_K"],
  [19, "IQ2_XXS"],
  [20, "IQ2_XS"],
  [21, "Q2_K_S"],
  [22, "IQ3_XS"],
  [23, "IQ3_XXS"],
  [24, "IQ1_S"],
  [25, "IQ4_NL"],
  [26, "IQ3_S"],
  [27, "IQ3_M"],
  [28, "IQ2_S"],
  [29, "IQ2_M"],
  [30, "IQ4_XS"],
  [31, "IQ1_M"],
  [32, "BF16"],
  [33, "Q4_0_4_4"],
  [34, "Q4_0_4_8"],
  [35, "Q4_0_8_8"],
  [36, "TQ1_0"],
  [37, "TQ2_0"],
  [38, "MXFP4_MOE"],
  [39, "NVFP4"],
  [40, "Q1_0"],
  [41, "Q2_0"],
]);
