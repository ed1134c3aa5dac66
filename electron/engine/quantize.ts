// Quantization with llama.cpp's own quantizer: llama_model_quantize in the libllama that
// node-llama-cpp ships, reached through FFI (koffi), so files are bit-identical to
// llama-quantize's. The native call runs on a worker thread; the event loop stays free.

import { existsSync, promises as fs, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import koffi from "koffi";
import { QuantaError } from "../contract/errors.js";
import { describeGguf, readGgufHeader } from "../core/library/gguf-reader.js";

/** llama.cpp's target types (llama_ftype in llama.h) that need no importance matrix. */
export const QUANT_TYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K_S: 11,
  Q3_K_M: 12,
  Q3_K_L: 13,
  Q4_K_S: 14,
  Q4_K_M: 15,
  Q5_K_S: 16,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ4_NL: 25,
  IQ4_XS: 30,
  BF16: 32,
} as const;

export type QuantType = keyof typeof QUANT_TYPES;

/** Sources worth quantizing from: anything lower would stack one quantization's error on another's. */
const SOURCE_TYPES = new Set(["F32", "F16", "BF16", "Q8_0"]);

export function isQuantType(value: string): value is QuantType {
  return Object.hasOwn(QUANT_TYPES, value);
}

// The struct as declared in the llama.h of the llama.cpp release node-llama-cpp 3.22.1 ships,
// registered with koffi by name for the function signatures below.
koffi.struct("llama_model_quantize_params", {
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

interface QuantizeParamsValue {
  nthread: number;
  ftype: number;
  [field: string]: unknown;
}

interface LlamaQuantizer {
  defaultParams(): QuantizeParamsValue;
  quantize(input: string, output: string, params: QuantizeParamsValue): Promise<number>;
}

let quantizer: LlamaQuantizer | null = null;

/** The folder of node-llama-cpp's prebuilt CPU binaries for this platform. */
function binariesFolder(): string {
  const platform = process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform;
  const name = `${platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(`@node-llama-cpp/${name}`);
  } catch {
    throw new QuantaError("engine_unavailable", `llama.cpp's prebuilt library for ${name} is not installed, so Quanta cannot quantize here.`);
  }
  // The package's entry is dist/index.js; its binaries sit in bins/<platform-arch>/.
  const folder = path.join(path.dirname(entry), "..", "bins", name);
  if (!existsSync(folder)) throw new QuantaError("engine_unavailable", `llama.cpp's prebuilt library is missing from ${folder}.`);
  return folder;
}

function loadQuantizer(): LlamaQuantizer {
  if (quantizer) return quantizer;
  const folder = binariesFolder();
  const file = readdirSync(folder).find((name) => /^(lib)?llama(\.v[\d.]+)?\.(so|dylib|dll)$/.test(name));
  if (!file) throw new QuantaError("engine_unavailable", `No llama library found in ${folder}.`);
  const library = koffi.load(path.join(folder, file));
  const backendInit = library.func("void llama_backend_init()");
  const defaults = library.func("llama_model_quantize_params llama_model_quantize_default_params()");
  const quantize = library.func(
    "uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)",
  );
  backendInit();
  quantizer = {
    defaultParams: () => defaults() as QuantizeParamsValue,
    quantize: (input, output, params) =>
      new Promise<number>((resolve, reject) => {
        quantize.async(input, output, params, (error: unknown, result: unknown) => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolve(Number(result));
        });
      }),
  };
  return quantizer;
}

export interface QuantizeRequest {
  input: string;
  output: string;
  type: QuantType;
  threads?: number;
  overwrite?: boolean;
}

/**
 * Quantizes input to type at output. Writes output.part and renames it only when llama.cpp
 * reports success, so a failed or interrupted run never leaves a file that looks like a model.
 */
export async function quantizeModel(request: QuantizeRequest): Promise<{ output: string; bytes: number }> {
  const ftype = QUANT_TYPES[request.type];
  if (ftype === undefined) throw new QuantaError("invalid_request", `"${String(request.type)}" is not a type Quanta can quantize to.`);
  const source = describeGguf(await readGgufHeader(request.input), request.input);
  if (!SOURCE_TYPES.has(source.fileType)) {
    throw new QuantaError(
      "invalid_request",
      `${path.basename(request.input)} is already quantized (${source.fileType}). Quantize from F32, F16, BF16 or Q8_0, so errors do not pile up.`,
    );
  }
  if (!request.overwrite && existsSync(request.output)) {
    throw new QuantaError("invalid_request", `${request.output} already exists.`);
  }
  const part = `${request.output}.part`;
  const native = loadQuantizer();
  const params = { ...native.defaultParams(), ftype, nthread: request.threads ?? 0 };
  try {
    const status = await native.quantize(request.input, part, params);
    if (status !== 0) {
      throw new QuantaError("internal", `llama.cpp could not quantize ${path.basename(request.input)} to ${request.type} (status ${status}; its log says why).`);
    }
    await fs.rename(part, request.output);
  } catch (error) {
    await fs.rm(part, { force: true });
    throw error;
  }
  return { output: request.output, bytes: (await fs.stat(request.output)).size };
}
