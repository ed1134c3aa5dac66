// A model and context of llama.cpp's C API, driven through FFI for teacher-forced evaluation:
// a window of tokens decoded in one call, then each scored position's logits read as a
// float array (llama_get_logits_ith), as llama-perplexity reads them. node-llama-cpp hands
// logits to JavaScript one number at a time, which for 32k-262k vocabularies costs several
// times the model's own compute; this path copies each position's row once.
//
// Layouts and defaults are copied from include/llama.h and src/llama-context.cpp /
// src/llama-model.cpp of llama.cpp v0.5.0 (the release node-llama-cpp 3.22.1 bundles); the
// defaults the library returns are checked field by field before a model is loaded, so a
// layout that no longer matches is refused instead of corrupting memory.

import { QuantaError } from "../../contract/errors.js";
import { openNativeLlama, type Koffi, type NativeLlama } from "./llama-library.js";

/** GGML_TYPE_F16 in ggml.h: the default KV cache type. */
const GGML_TYPE_F16 = 1;

/** Pointers are opaque to JavaScript (koffi's External). */
export type Pointer = unknown;

interface ModelParams {
  devices: Pointer;
  tensor_buft_overrides: Pointer;
  n_gpu_layers: number;
  split_mode: number;
  load_mode: number;
  lazy_mode: number;
  main_gpu: number;
  tensor_split: Pointer;
  progress_callback: Pointer;
  progress_callback_user_data: Pointer;
  kv_overrides: Pointer;
  vocab_only: boolean;
  check_tensors: boolean;
  use_extra_bufts: boolean;
  no_host: boolean;
  no_alloc: boolean;
  load_mtp: boolean;
}

interface ContextParams {
  n_ctx: number;
  n_batch: number;
  n_ubatch: number;
  n_seq_max: number;
  n_rs_seq: number;
  n_outputs_max: number;
  n_outputs_max_per_seq: number;
  n_threads: number;
  n_threads_batch: number;
  ctx_type: number;
  rope_scaling_type: number;
  pooling_type: number;
  attention_type: number;
  flash_attn_type: number;
  rope_freq_base: number;
  rope_freq_scale: number;
  yarn_ext_factor: number;
  yarn_attn_factor: number;
  yarn_beta_fast: number;
  yarn_beta_slow: number;
  yarn_orig_ctx: number;
  defrag_thold: number;
  cb_eval: Pointer;
  cb_eval_user_data: Pointer;
  type_k: number;
  type_v: number;
  abort_callback: Pointer;
  abort_callback_data: Pointer;
  embeddings: boolean;
  offload_kqv: boolean;
  no_perf: boolean;
  op_offload: boolean;
  swa_full: boolean;
  kv_unified: boolean;
  samplers: Pointer;
  n_samplers: number | bigint;
  ctx_other: Pointer;
}

interface Batch {
  n_tokens: number;
  token: Pointer;
  embd: Pointer;
  pos: Pointer;
  n_seq_id: Pointer;
  seq_id: Pointer;
  logits: Pointer;
}

type AsyncCall = (...args: unknown[]) => void;
interface Fn {
  (...args: unknown[]): unknown;
  async: AsyncCall;
}

export interface LlamaApi {
  koffi: Koffi;
  /** The library, for binding what this evaluator does not use. */
  lib: NativeLlama["lib"];
  /** llama_batch's layout, for functions that take or return one. */
  batchType: unknown;
  modelDefaults: () => ModelParams;
  contextDefaults: () => ContextParams;
  loadModel: Fn;
  freeModel: Fn;
  initContext: Fn;
  freeContext: Fn;
  modelVocab: Fn;
  vocabTokens: Fn;
  vocabBos: Fn;
  vocabAddBos: Fn;
  tokenize: Fn;
  batchInit: Fn;
  batchFree: Fn;
  decode: Fn;
  memory: Fn;
  memoryClear: Fn;
  logitsIth: Fn;
  setThreads: Fn;
  contextSize: Fn;
}

let api: Promise<LlamaApi> | null = null;

function bind(native: NativeLlama): LlamaApi {
  const { koffi, lib } = native;
  // llama.h v0.5.0. Anonymous structs: loading this module twice in one process registers no duplicate name.
  const ModelParamsType = koffi.struct({
    devices: "void *",
    tensor_buft_overrides: "void *",
    n_gpu_layers: "int32_t",
    split_mode: "int32_t",
    load_mode: "int32_t",
    lazy_mode: "int32_t",
    main_gpu: "int32_t",
    tensor_split: "void *",
    progress_callback: "void *",
    progress_callback_user_data: "void *",
    kv_overrides: "void *",
    vocab_only: "bool",
    check_tensors: "bool",
    use_extra_bufts: "bool",
    no_host: "bool",
    no_alloc: "bool",
    load_mtp: "bool",
  });
  const ContextParamsType = koffi.struct({
    n_ctx: "uint32_t",
    n_batch: "uint32_t",
    n_ubatch: "uint32_t",
    n_seq_max: "uint32_t",
    n_rs_seq: "uint32_t",
    n_outputs_max: "uint32_t",
    n_outputs_max_per_seq: "uint32_t",
    n_threads: "int32_t",
    n_threads_batch: "int32_t",
    ctx_type: "int32_t",
    rope_scaling_type: "int32_t",
    pooling_type: "int32_t",
    attention_type: "int32_t",
    flash_attn_type: "int32_t",
    rope_freq_base: "float",
    rope_freq_scale: "float",
    yarn_ext_factor: "float",
    yarn_attn_factor: "float",
    yarn_beta_fast: "float",
    yarn_beta_slow: "float",
    yarn_orig_ctx: "uint32_t",
    defrag_thold: "float",
    cb_eval: "void *",
    cb_eval_user_data: "void *",
    type_k: "int32_t",
    type_v: "int32_t",
    abort_callback: "void *",
    abort_callback_data: "void *",
    embeddings: "bool",
    offload_kqv: "bool",
    no_perf: "bool",
    op_offload: "bool",
    swa_full: "bool",
    kv_unified: "bool",
    samplers: "void *",
    n_samplers: "size_t",
    ctx_other: "void *",
  });
  const BatchType = koffi.struct({
    n_tokens: "int32_t",
    token: "void *",
    embd: "void *",
    pos: "void *",
    n_seq_id: "void *",
    seq_id: "void *",
    logits: "void *",
  });
  const fn = (name: string, result: unknown, args: unknown[]): Fn => lib.func(name, result as never, args as never);
  return {
    koffi,
    lib,
    batchType: BatchType,
    modelDefaults: fn("llama_model_default_params", ModelParamsType, []) as unknown as () => ModelParams,
    contextDefaults: fn("llama_context_default_params", ContextParamsType, []) as unknown as () => ContextParams,
    loadModel: fn("llama_model_load_from_file", "void *", ["str", ModelParamsType]),
    freeModel: fn("llama_model_free", "void", ["void *"]),
    initContext: fn("llama_init_from_model", "void *", ["void *", ContextParamsType]),
    freeContext: fn("llama_free", "void", ["void *"]),
    modelVocab: fn("llama_model_get_vocab", "void *", ["void *"]),
    vocabTokens: fn("llama_vocab_n_tokens", "int32_t", ["void *"]),
    vocabBos: fn("llama_vocab_bos", "int32_t", ["void *"]),
    vocabAddBos: fn("llama_vocab_get_add_bos", "bool", ["void *"]),
    tokenize: fn("llama_tokenize", "int32_t", ["void *", "void *", "int32_t", "void *", "int32_t", "bool", "bool"]),
    batchInit: fn("llama_batch_init", BatchType, ["int32_t", "int32_t", "int32_t"]),
    batchFree: fn("llama_batch_free", "void", [BatchType]),
    decode: fn("llama_decode", "int32_t", ["void *", BatchType]),
    memory: fn("llama_get_memory", "void *", ["void *"]),
    memoryClear: fn("llama_memory_clear", "void", ["void *", "bool"]),
    logitsIth: fn("llama_get_logits_ith", "void *", ["void *", "int32_t"]),
    setThreads: fn("llama_set_n_threads", "void", ["void *", "int32_t", "int32_t"]),
    contextSize: fn("llama_n_ctx", "uint32_t", ["void *"]),
  };
}

/** The defaults llama.cpp v0.5.0 returns; any difference means the layout above is not the library's. */
function checkDefaults(model: ModelParams, context: ContextParams, file: string): void {
  const expected: Array<[string, unknown, unknown]> = [
    ["n_gpu_layers", model.n_gpu_layers, -1],
    ["split_mode", model.split_mode, 1],
    ["load_mode", model.load_mode, -1],
    ["lazy_mode", model.lazy_mode, 1],
    ["main_gpu", model.main_gpu, 0],
    ["vocab_only", model.vocab_only, false],
    ["use_extra_bufts", model.use_extra_bufts, true],
    ["no_host", model.no_host, false],
    ["load_mtp", model.load_mtp, false],
    ["n_ctx", context.n_ctx, 512],
    ["n_batch", context.n_batch, 2048],
    ["n_ubatch", context.n_ubatch, 512],
    ["n_seq_max", context.n_seq_max, 1],
    ["n_outputs_max_per_seq", context.n_outputs_max_per_seq, 1],
    ["flash_attn_type", context.flash_attn_type, -1],
    ["yarn_ext_factor", context.yarn_ext_factor, -1],
    ["defrag_thold", context.defrag_thold, -1],
    ["type_k", context.type_k, GGML_TYPE_F16],
    ["type_v", context.type_v, GGML_TYPE_F16],
    ["embeddings", context.embeddings, false],
    ["offload_kqv", context.offload_kqv, true],
    ["no_perf", context.no_perf, true],
    ["op_offload", context.op_offload, true],
    ["swa_full", context.swa_full, true],
    ["kv_unified", context.kv_unified, false],
    ["n_samplers", Number(context.n_samplers), 0],
  ];
  const wrong = expected.filter(([, actual, wanted]) => actual !== wanted).map(([name]) => name);
  if (wrong.length > 0 || context.samplers !== null || context.ctx_other !== null || model.devices !== null) {
    throw new QuantaError(
      "engine_unavailable",
      `llama.cpp's library ${file} does not have the model and context parameters Quanta's evaluation was written for (${wrong.join(", ") || "pointers"}).`,
    );
  }
}

/** llama.h's functions this evaluator uses, bound once, with the library's defaults checked against the layouts here. */
export function loadLlamaApi(): Promise<LlamaApi> {
  api ??= openNativeLlama()
    .then((native) => {
      const bound = bind(native);
      checkDefaults(bound.modelDefaults(), bound.contextDefaults(), native.file);
      return bound;
    })
    .catch((error: unknown) => {
      api = null;
      throw error;
    });
  return api;
}

function callAsync(fn: Fn, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: unknown) => {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a native callback's error, of no known type: String() gives the words it has
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(result);
    });
  });
}

export interface EvaluatorOptions {
  contextSize: number;
  /** Threads for a single token and for a batch, as llama_set_n_threads takes them. */
  threads: number;
  batchThreads: number;
  /** Layers on the GPU; -1 for all (llama.cpp's default), 0 for none. */
  gpuLayers: number;
}

export interface Window {
  /** Tokens of the window, in order; the first is the BOS where the model adds one. */
  tokens: Int32Array;
  /** Positions first .. tokens.length-2 get logits. */
  first: number;
}

/** One model and one context of llama.cpp, used for one window at a time; dispose when done. */
export class NativeEvaluator {
  private disposed = false;
  private batch: Batch | null = null;
  private batchSize = 0;
  private batchFirst = -1;
  /** The last in-place view of llama.cpp's logits (logitsRows). */
  private view: { address: bigint; array: Float32Array } | null = null;
  /** koffi array types, made once: a type per call would cost more than the copy. */
  private readonly row: unknown;
  private readonly tokenTypes = new Map<number, unknown>();

  private constructor(
    private readonly native: LlamaApi,
    private readonly model: Pointer,
    private readonly context: Pointer,
    private readonly vocab: Pointer,
    readonly vocabSize: number,
    readonly contextSize: number,
  ) {
    this.row = native.koffi.array("float", vocabSize, "Typed");
  }

  static async open(modelPath: string, options: EvaluatorOptions): Promise<NativeEvaluator> {
    const native = await loadLlamaApi();
    const modelParams: ModelParams = { ...native.modelDefaults(), n_gpu_layers: options.gpuLayers };
    const model = await callAsync(native.loadModel, modelPath, modelParams);
    if (model === null) throw new QuantaError("model_load_failed", "llama.cpp could not load this model.");
    const contextParams: ContextParams = {
      ...native.contextDefaults(),
      n_ctx: options.contextSize,
      // One window per decode, in physical batches of at most 512 (llama-perplexity's n_ubatch).
      n_batch: options.contextSize,
      n_ubatch: Math.min(options.contextSize, 512),
      n_threads: options.threads,
      n_threads_batch: options.batchThreads,
    };
    const context = await callAsync(native.initContext, model, contextParams);
    if (context === null) {
      native.freeModel(model);
      throw new QuantaError("model_load_failed", `llama.cpp could not make a context of ${options.contextSize} tokens for this model.`);
    }
    const vocab = native.modelVocab(model);
    const vocabSize = Number(native.vocabTokens(vocab));
    return new NativeEvaluator(native, model, context, vocab, vocabSize, Number(native.contextSize(context)));
  }

  /** The BOS token when the model adds one, else null (llama_vocab_get_add_bos). */
  get bos(): number | null {
    return this.native.vocabAddBos(this.vocab) === true ? Number(this.native.vocabBos(this.vocab)) : null;
  }

  /** The text's tokens as llama-perplexity takes them: common_tokenize(ctx, text, add_special = true). */
  tokenize(text: string): Int32Array {
    this.check();
    const bytes = Buffer.from(text, "utf8");
    let out = new Int32Array(bytes.length + 2);
    let count = Number(this.native.tokenize(this.vocab, bytes, bytes.length, out, out.length, true, false));
    if (count === -2147483648) throw new QuantaError("invalid_request", "The evaluation text is too long to tokenize.");
    if (count < 0) {
      out = new Int32Array(-count);
      count = Number(this.native.tokenize(this.vocab, bytes, bytes.length, out, out.length, true, false));
    }
    return out.subarray(0, count);
  }

  /** Decodes one window from an empty cache; its logits are read with logitsAt until the next call. */
  async decode(window: Window): Promise<void> {
    this.check();
    const size = window.tokens.length;
    if (size > this.contextSize)
      throw new QuantaError("internal", `A window of ${size} tokens does not fit a context of ${this.contextSize}.`);
    const batch = this.prepareBatch(size, window.first);
    let tokenType = this.tokenTypes.get(size);
    if (tokenType === undefined) {
      tokenType = this.native.koffi.array("int32_t", size);
      this.tokenTypes.set(size, tokenType);
    }
    this.native.koffi.encode(batch.token, 0, tokenType as never, window.tokens);
    this.native.memoryClear(this.native.memory(this.context), true);
    const status = Number(await callAsync(this.native.decode, this.context, { ...batch, n_tokens: size }));
    if (status !== 0)
      throw new QuantaError("internal", `llama.cpp could not evaluate a window of the text (llama_decode returned ${status}).`);
  }

  /** A copy of the logits at `index` of the last window (a position at or after its `first`). */
  logitsAt(index: number): Float32Array {
    this.check();
    const pointer = this.native.logitsIth(this.context, index);
    if (pointer === null) throw new QuantaError("internal", `llama.cpp has no logits for position ${index}.`);
    return this.native.koffi.decode(pointer, this.row as never) as Float32Array;
  }

  /**
   * The logits of positions index .. index + count − 1 of the last window, read in place (no
   * copy): valid until the next decode or dispose, so copy what must outlive either. llama.cpp
   * keeps one sequence's outputs in batch order, one row after another; where it does not, the
   * rows are copied one by one instead.
   */
  logitsRows(index: number, count: number): Float32Array {
    this.check();
    const { koffi } = this.native;
    const first = this.native.logitsIth(this.context, index);
    const last = this.native.logitsIth(this.context, index + count - 1);
    if (first === null || last === null)
      throw new QuantaError("internal", `llama.cpp has no logits for positions ${index}..${index + count - 1}.`);
    const rowBytes = this.vocabSize * 4;
    const address = koffi.address(first);
    if (koffi.address(last) - address === BigInt((count - 1) * rowBytes)) {
      // One view per buffer and size, kept while llama.cpp keeps the buffer: a view per call is
      // external memory that V8 answers with garbage collections.
      const bytes = count * rowBytes;
      if (this.view?.address !== address || this.view.array.byteLength !== bytes) {
        this.view = { address, array: new Float32Array(koffi.view(first, bytes)) };
      }
      return this.view.array;
    }
    const rows = new Float32Array(count * this.vocabSize);
    for (let row = 0; row < count; row++) rows.set(this.logitsAt(index + row), row * this.vocabSize);
    return rows;
  }

  /** Threads for single tokens and for batches from now on. */
  setThreads(threads: number, batchThreads: number): void {
    this.check();
    this.native.setThreads(this.context, threads, batchThreads);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.view = null;
    if (this.batch) this.native.batchFree(this.batch);
    this.batch = null;
    this.native.freeContext(this.context);
    this.native.freeModel(this.model);
  }

  /** A batch of `size` tokens at positions 0..size-1 in sequence 0, logits from `first` on; kept while the shape stays. */
  private prepareBatch(size: number, first: number): Batch {
    const { koffi } = this.native;
    if (this.batch && this.batchSize === size && this.batchFirst === first) return this.batch;
    if (this.batch) this.native.batchFree(this.batch);
    const batch = this.native.batchInit(size, 0, 1) as Batch;
    this.batch = batch;
    this.batchSize = size;
    this.batchFirst = first;
    koffi.encode(
      batch.pos,
      0,
      koffi.array("int32_t", size),
      Int32Array.from({ length: size }, (_, index) => index),
    );
    koffi.encode(batch.n_seq_id, 0, koffi.array("int32_t", size), new Int32Array(size).fill(1));
    const seqIds = koffi.decode(batch.seq_id, koffi.array("void *", size)) as Pointer[];
    for (const seqId of seqIds) koffi.encode(seqId, 0, "int32_t", 0);
    const outputs = new Int8Array(size);
    // llama-perplexity asks for logits at every position from `first` on (the last one is not scored).
    for (let index = first; index < size; index++) outputs[index] = 1;
    koffi.encode(batch.logits, 0, koffi.array("int8_t", size), outputs);
    return batch;
  }

  private check(): void {
    if (this.disposed) throw new QuantaError("internal", "The evaluation context was already closed.");
  }
}
