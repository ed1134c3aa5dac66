// A generation loop on llama.cpp's C API through FFI, for the API bench: llama_decode and the
// sampler chain called synchronously on the JavaScript thread, one call each per token, with
// no hand-over to another thread, as llama-server's loop runs. It is not Quanta's engine loop
// (that one runs on node-llama-cpp's context); it measures, in the same run, what a loop that
// owns llama.cpp's context directly would reach: the same file, threads, context size and
// sampler chain as the engine's (top-k, top-p, min-p, temperature, the seeded draw).

import { loadLlamaApi, type Pointer } from "../../electron/engine/native/llama-evaluator.js";

export interface NativeLoop {
  /** Decodes the prompt into an empty cache, then generates `tokens` tokens; tok/s from the first to the last. */
  run(prompt: readonly number[], seed: number, tokens: number): number;
  dispose(): void;
}

export async function nativeLoop(file: string, threads: number, contextSize: number): Promise<NativeLoop> {
  const api = await loadLlamaApi();
  const { koffi, lib } = api;
  const bind = (name: string, result: unknown, args: unknown[]) =>
    lib.func(name, result as never, args as never) as unknown as (...values: unknown[]) => unknown;
  const batchGetOne = bind("llama_batch_get_one", api.batchType, ["void *", "int32_t"]);
  const ChainParams = koffi.struct({ no_perf: "bool" });
  const chainInit = bind("llama_sampler_chain_init", "void *", [ChainParams]);
  const chainAdd = bind("llama_sampler_chain_add", "void", ["void *", "void *"]);
  const topK = bind("llama_sampler_init_top_k", "void *", ["int32_t"]);
  const topP = bind("llama_sampler_init_top_p", "void *", ["float", "size_t"]);
  const minP = bind("llama_sampler_init_min_p", "void *", ["float", "size_t"]);
  const temperature = bind("llama_sampler_init_temp", "void *", ["float"]);
  const draw = bind("llama_sampler_init_dist", "void *", ["uint32_t"]);
  const sample = bind("llama_sampler_sample", "int32_t", ["void *", "void *", "int32_t"]);
  const samplerFree = bind("llama_sampler_free", "void", ["void *"]);

  const model: Pointer = api.loadModel(file, { ...api.modelDefaults(), n_gpu_layers: 0 });
  if (model === null) throw new Error(`llama.cpp could not load ${file} through FFI`);
  const context: Pointer = api.initContext(model, {
    ...api.contextDefaults(),
    n_ctx: contextSize,
    n_batch: contextSize,
    n_ubatch: Math.min(contextSize, 512),
    n_threads: threads,
    n_threads_batch: threads,
  });
  if (context === null) {
    api.freeModel(model);
    throw new Error(`llama.cpp could not make a context of ${contextSize} tokens through FFI`);
  }
  const next = new Int32Array(1);
  const decode = (tokens: Int32Array): void => {
    const status = Number(api.decode(context, batchGetOne(tokens, tokens.length)));
    if (status !== 0) throw new Error(`llama_decode returned ${status}`);
  };
  return {
    run(prompt, seed, tokens) {
      api.memoryClear(api.memory(context), true);
      const chain = chainInit({ no_perf: true });
      chainAdd(chain, topK(40));
      chainAdd(chain, topP(0.95, 1));
      chainAdd(chain, minP(0.05, 1));
      chainAdd(chain, temperature(0.8));
      chainAdd(chain, draw(seed));
      try {
        decode(Int32Array.from(prompt));
        let first = 0;
        for (let generated = 1; ; generated += 1) {
          next[0] = Number(sample(chain, context, -1));
          if (generated === 1) first = performance.now();
          if (generated >= tokens) break;
          decode(next);
        }
        const elapsed = performance.now() - first;
        return elapsed > 0 ? ((tokens - 1) * 1000) / elapsed : 0;
      } finally {
        samplerFree(chain);
      }
    },
    dispose() {
      api.freeContext(context);
      api.freeModel(model);
    },
  };
}
