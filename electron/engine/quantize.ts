// Quantization with llama.cpp's own quantizer: llama_model_quantize in the libllama that
// node-llama-cpp ships, reached through FFI (koffi), so files are bit-identical to
// llama-quantize's. The blocking native call runs on one of koffi's worker threads
// (`fn.async`), so the engine's event loop keeps serving while a model is quantized.
//
// The struct layout and enum values below are copied from include/llama.h of the llama.cpp
// release node-llama-cpp 3.22.1 bundles (llama/llama.cpp.info.json: v0.5.0). The library is
// refused if it says it was built from another release, and the defaults it returns are
// checked field by field, so a layout that no longer matches fails loudly instead of
// corrupting memory.
//
// Cancellation: llama_model_quantize has no abort hook, so the lab runs the quantizer in an
// engine process of its own and ends that process to cancel; the core then deletes the .part
// file (core/lab/lab-service.ts).

import { existsSync, promises as fs, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { QuantaError } from "../contract/errors.js";
import { describeGguf, readGgufHeader } from "../common-node/gguf/gguf-reader.js";
import {
  estimateQuantizedBytes,
  IMATRIX_TYPES,
  isQuantType,
  QUANT_TYPE_NAMES,
  QUANT_TYPES,
  RECIPE_KEEP_TYPES,
  RECIPE_METADATA_KEY,
  recipeMakesSense,
  SOURCE_TYPES,
  type QuantRecipe,
  type QuantType,
  type RecipeKeepType,
} from "../common-node/gguf/quant-types.js";
import { openNativeLlama } from "./native/llama-library.js";

// ---------------------------------------------------------------------------------------------
// The native library

/** GGML_TYPE_COUNT in ggml.h: "no override" for output_tensor_type and token_embedding_type. */
const GGML_TYPE_COUNT = 43;

/** LLAMA_QUANT_MAX_BUF_SIZE in llama-quant.cpp: the default max_buf_size (8 GiB). */
const LLAMA_QUANT_MAX_BUF_SIZE = 8 * 1024 ** 3;

/** llama_model_quantize_params as koffi sees it (field names as in llama.h). */
interface QuantizeParams {
  nthread: number;
  ftype: number;
  output_tensor_type: number;
  token_embedding_type: number;
  allow_requantize: boolean;
  quantize_output_tensor: boolean;
  only_copy: boolean;
  pure: boolean;
  keep_split: boolean;
  dry_run: boolean;
  imatrix: unknown;
  kv_overrides: unknown;
  tt_overrides: unknown;
  prune_layers: unknown;
  max_buf_size: number | bigint;
}

interface LlamaQuantizer {
  library: string;
  defaultParams(): QuantizeParams;
  quantize(input: string, output: string, params: QuantizeParams): Promise<number>;
}

let quantizer: Promise<LlamaQuantizer> | null = null;

function loadQuantizer(): Promise<LlamaQuantizer> {
  quantizer ??= openQuantizer().catch((error: unknown) => {
    quantizer = null; // a later call tries again (after an install, say)
    throw error;
  });
  return quantizer;
}

async function openQuantizer(): Promise<LlamaQuantizer> {
  // The build node-llama-cpp chose and loaded; its quantizer runs on the CPU whatever the backend.
  const { koffi, lib, file: library } = await openNativeLlama();

  // llama.h, v0.5.0: the C layout on every 64-bit platform node-llama-cpp ships for is
  // 4 x int32 (0..15), 6 x bool (16..21), 2 bytes padding, 4 pointers (24..55), size_t (56),
  // 64 bytes in all. Enums are int-sized. Anonymous, so loading this module twice in one
  // process (test runners do) registers no duplicate type name.
  const Params = koffi.struct({
    nthread: "int32_t",
    ftype: "int32_t",
    output_tensor_type: "int32_t",
    token_embedding_type: "int32_t",
    allow_requantize: "bool",
    quantize_output_tensor: "bool",
    only_copy: "bool",
    pure: "bool",
    keep_split: "bool",
    dry_run: "bool",
    imatrix: "void *",
    kv_overrides: "void *",
    tt_overrides: "void *",
    prune_layers: "void *",
    max_buf_size: "size_t",
  });

  const backendInit = lib.func("llama_backend_init", "void", []);
  const defaults = lib.func("llama_model_quantize_default_params", Params, []);
  const quantize = lib.func("llama_model_quantize", "uint32_t", ["str", "str", koffi.pointer(Params)]);

  backendInit();
  const probe = defaults() as QuantizeParams;
  const expected: Partial<QuantizeParams> = {
    nthread: 0,
    ftype: QUANT_TYPES.Q8_0.ftype,
    output_tensor_type: GGML_TYPE_COUNT,
    token_embedding_type: GGML_TYPE_COUNT,
    allow_requantize: false,
    quantize_output_tensor: true,
    only_copy: false,
    pure: false,
    keep_split: false,
    dry_run: false,
  };
  const mismatched = Object.entries(expected).filter(([key, value]) => probe[key as keyof QuantizeParams] !== value);
  if (mismatched.length > 0 || Number(probe.max_buf_size) !== LLAMA_QUANT_MAX_BUF_SIZE || probe.imatrix !== null) {
    throw new QuantaError(
      "engine_unavailable",
      `llama.cpp's library ${library} does not have the quantizer parameters Quanta was written for, so quantizing is off.`,
    );
  }

  return {
    library,
    defaultParams: () => defaults() as QuantizeParams,
    quantize: (input, output, params) =>
      new Promise<number>((resolve, reject) => {
        quantize.async(input, output, params, (error: unknown, result: unknown) => {
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a native callback's error, of no known type: String() gives the words it has
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolve(Number(result));
        });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Quantizing

export interface QuantizeProgress {
  /** Bytes of output.part so far (llama.cpp writes tensor by tensor, the header last). */
  bytesWritten: number;
  /** The predicted final size (estimateQuantizedBytes). */
  bytesExpected: number;
  /** 0 at the start, an estimate below 1 while running, exactly 1 once the file is in place. */
  fraction: number;
}

export interface QuantizeRequest {
  input: string;
  output: string;
  type: QuantType;
  /** A mixed precision recipe: keep the output and token-embedding tensors at this type. */
  keep?: RecipeKeepType | null;
  /** Threads llama.cpp quantizes with. Default: every core (os.availableParallelism()). */
  threads?: number;
  /** Replace an existing output file. Default false. */
  overwrite?: boolean;
  /** Called at the start, every 250 ms while the file grows, and at the end. */
  onProgress?: (progress: QuantizeProgress) => void;
}

export interface QuantizeResult {
  output: string;
  bytes: number;
}

const PROGRESS_INTERVAL_MS = 250;

/** Outputs being written in this process, so two runs never share one .part file. */
const inProgress = new Set<string>();

/**
 * Quantizes `input` to `type` at `output` with llama.cpp's quantizer. Writes `output.part`
 * and renames it only when llama.cpp reports success, so a failed run never leaves a file
 * that looks like a model. Throws QuantaError: "invalid_request" for a type Quanta does not
 * make, a source that is already quantized, an output that exists or has no folder;
 * "not_found"/"model_invalid" for an unreadable source; "busy" when the same output is
 * being written; "engine_unavailable" without llama.cpp's library; "storage_failed" when
 * the disk is full; "internal" when llama.cpp fails for a reason only its log names.
 */
export async function quantizeModel(request: QuantizeRequest): Promise<QuantizeResult> {
  const type: string = request.type;
  if (!isQuantType(type)) {
    if (Object.hasOwn(IMATRIX_TYPES, type)) {
      throw new QuantaError(
        "invalid_request",
        `${type} needs an importance matrix, which Quanta does not make yet. Choose Q2_K or a larger type.`,
      );
    }
    throw new QuantaError(
      "invalid_request",
      `"${type}" is not a type Quanta can quantize to. Choose one of ${QUANT_TYPE_NAMES.join(", ")}.`,
    );
  }
  const recipe = recipeOf(type, request.keep ?? null);
  const threads = request.threads ?? Math.max(1, os.availableParallelism());
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new QuantaError("invalid_request", `The thread count must be a whole number of at least 1, not ${String(request.threads)}.`);
  }

  const input = path.resolve(request.input);
  const output = path.resolve(request.output);
  const part = `${output}.part`;
  if (input === output) {
    throw new QuantaError(
      "invalid_request",
      `The quantized model cannot replace its source, ${path.basename(input)}. Choose another file name.`,
    );
  }
  checkOutput(output, request.overwrite === true);

  const header = await readGgufHeader(input);
  const source = describeGguf(header, input);
  if (!SOURCE_TYPES.has(source.fileType)) {
    throw new QuantaError(
      "invalid_request",
      `${path.basename(input)} is already quantized (${source.fileType}). Quantize from an F32, F16, BF16 or Q8_0 file, so one quantization's error does not pile onto another's.`,
    );
  }

  if (inProgress.has(output)) throw new QuantaError("busy", `${path.basename(output)} is already being written.`);
  inProgress.add(output);
  try {
    const native = await loadQuantizer();
    const params: QuantizeParams = {
      ...native.defaultParams(),
      ftype: QUANT_TYPES[type].ftype,
      nthread: threads,
      // llama.cpp dequantizes a quantized tensor only when allowed; Q8_0 is the one
      // quantized source Quanta accepts.
      allow_requantize: header.tensors.some((tensor) => tensor.type === "Q8_0"),
      ...recipeParams(recipe),
    };

    const bytesExpected = estimateQuantizedBytes(header, type, recipe);
    const report = progressReporter(request.onProgress, part, bytesExpected);
    report.start();
    let status: number;
    try {
      status = await native.quantize(input, part, params);
    } catch (error) {
      await fs.rm(part, { force: true });
      const detail = error instanceof Error ? error.message : String(error);
      throw new QuantaError("internal", `llama.cpp's quantizer could not be called (${detail}).`);
    } finally {
      await report.stop();
    }
    if (status !== 0) {
      const written = await fileSize(part);
      await fs.rm(part, { force: true });
      throw await failure(input, output, type, bytesExpected - written);
    }
    try {
      checkOutput(output, request.overwrite === true); // it may have appeared meanwhile
      await fs.rename(part, output);
    } catch (error) {
      await fs.rm(part, { force: true });
      if (error instanceof QuantaError) throw error;
      throw new QuantaError(
        "storage_failed",
        `The quantized model could not be moved into place as ${output} (${(error as Error).message}).`,
      );
    }
    const bytes = (await fs.stat(output)).size;
    report.finish(bytes);
    return { output, bytes };
  } finally {
    inProgress.delete(output);
  }
}

/**
 * llama.cpp's dry run (llama-quantize --dry-run): the quantizer chooses every tensor's type
 * and adds up the sizes without writing anything. llama.cpp reports the total only in its log
 * ("quant size = … MiB"), so the caller reads it there. Resolves once the run has ended.
 */
export async function quantizeDryRun(input: string, type: QuantType, keep: RecipeKeepType | null = null): Promise<void> {
  const recipe = recipeOf(type, keep);
  const header = await readGgufHeader(input);
  const source = describeGguf(header, input);
  if (!SOURCE_TYPES.has(source.fileType)) {
    throw new QuantaError("invalid_request", `${path.basename(input)} is already quantized (${source.fileType}).`);
  }
  const native = await loadQuantizer();
  const params: QuantizeParams = {
    ...native.defaultParams(),
    ftype: QUANT_TYPES[type].ftype,
    nthread: 1,
    dry_run: true,
    allow_requantize: header.tensors.some((tensor) => tensor.type === "Q8_0"),
    ...recipeParams(recipe),
  };
  // No file is written in a dry run; the name only has to be one nobody uses.
  const status = await native.quantize(input, `${input}.dry-run-${process.pid}`, params);
  if (status !== 0) throw new QuantaError("internal", `llama.cpp's dry run for ${type} failed.`);
}

/** The recipe for a base type and a kept type, refused where it buys nothing (Q8_0+Q8_0). */
function recipeOf(type: QuantType, keep: RecipeKeepType | null): QuantRecipe | null {
  if (keep === null) return null;
  if (!Object.hasOwn(RECIPE_KEEP_TYPES, keep)) {
    throw new QuantaError(
      "invalid_request",
      `Output and embeddings can be kept at ${Object.keys(RECIPE_KEEP_TYPES).join(" or ")}, not ${keep as string}.`,
    );
  }
  if (!recipeMakesSense(type, keep)) {
    throw new QuantaError(
      "invalid_request",
      `Keeping the output and embeddings at ${keep} buys nothing over ${type}: choose a smaller base type.`,
    );
  }
  return { name: `${type}+${keep}`, base: type, keep };
}

/** sizeof(struct llama_model_kv_override) in llama.h v0.5.0: int tag, char key[128], 8-aligned 128-byte union. */
const KV_OVERRIDE_BYTES = 264;
const KV_OVERRIDE_VALUE_OFFSET = 136;
/** LLAMA_KV_OVERRIDE_TYPE_STR */
const KV_OVERRIDE_STR = 3;

/**
 * The quantizer's parameters for a recipe: llama-quantize's --output-tensor-type and
 * --token-embedding-type, and the recipe's name written into the file's metadata
 * (quanta.recipe) through kv_overrides, a C array ended by an entry whose key is empty.
 */
function recipeParams(recipe: QuantRecipe | null): Partial<QuantizeParams> {
  if (recipe === null) return {};
  const ggmlType = RECIPE_KEEP_TYPES[recipe.keep].ggmlType;
  // Two entries: the recipe, then the zeroed terminator. Kept alive by the params object for the call.
  const overrides = Buffer.alloc(KV_OVERRIDE_BYTES * 2);
  overrides.writeInt32LE(KV_OVERRIDE_STR, 0);
  overrides.write(RECIPE_METADATA_KEY, 4, 127, "utf8");
  overrides.write(recipe.name, KV_OVERRIDE_VALUE_OFFSET, 127, "utf8");
  return { output_tensor_type: ggmlType, token_embedding_type: ggmlType, kv_overrides: overrides };
}

/** Refuses an output that exists (unless overwriting a file) or whose folder does not. */
function checkOutput(output: string, overwrite: boolean): void {
  const name = path.basename(output);
  const existing = statOrNull(output);
  if (existing) {
    if (!overwrite)
      throw new QuantaError("invalid_request", `${name} already exists in ${path.dirname(output)}. Choose another name, or replace it.`);
    if (!existing.isFile()) throw new QuantaError("invalid_request", `${output} is not a file, so it cannot be replaced by a model.`);
  }
  const folder = statOrNull(path.dirname(output));
  if (!folder?.isDirectory()) {
    throw new QuantaError("invalid_request", `${name} cannot be written: the folder ${path.dirname(output)} does not exist.`);
  }
}

function statOrNull(file: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * llama.cpp says why it failed only in its log. The one cause worth naming here is a full
 * disk: when the folder has less room left than the part still to write, say so.
 */
async function failure(input: string, output: string, type: QuantType, bytesStillToWrite: number): Promise<QuantaError> {
  const what = `${path.basename(input)} could not be quantized to ${type}`;
  try {
    const stats = await fs.statfs(path.dirname(output));
    const free = stats.bavail * stats.bsize;
    if (free < Math.max(bytesStillToWrite, 0) + 16 * 1024 * 1024) {
      return new QuantaError(
        "storage_failed",
        `${what}: the disk holding ${path.dirname(output)} is full or nearly so (${formatMiB(free)} free).`,
      );
    }
  } catch {
    // no figure for the disk; fall through
  }
  if (!existsSync(input)) return new QuantaError("not_found", `${what}: the file went away while it was being read.`);
  return new QuantaError("internal", `${what}: llama.cpp stopped with an error (the engine log has its reason).`);
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Reports the .part file's growth against the predicted size while llama.cpp writes. */
function progressReporter(onProgress: QuantizeRequest["onProgress"], part: string, bytesExpected: number) {
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let last = 0;
  const emit = (bytesWritten: number, fraction: number): void => {
    try {
      onProgress?.({ bytesWritten, bytesExpected, fraction });
    } catch {
      // a listener's error must not end the quantization
    }
  };
  const poll = async (): Promise<void> => {
    const written = await fileSize(part);
    const fraction = Math.max(last, Math.min(0.99, written / Math.max(1, bytesExpected)));
    last = fraction;
    emit(written, fraction);
  };
  return {
    start(): void {
      if (!onProgress) return;
      emit(0, 0);
      timer = setInterval(() => {
        polling = polling.then(poll);
      }, PROGRESS_INTERVAL_MS);
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await polling;
    },
    finish(bytes: number): void {
      if (onProgress) emit(bytes, 1);
    },
  };
}
