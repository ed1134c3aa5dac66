// The core's own checks of a header before llama.cpp sees it. Some values make llama.cpp
// abort the whole engine process (SIGABRT from a GGML_ASSERT) instead of failing the load:
// no attention heads, more layers than it has room for. Others (integers past 2^53) break
// node-llama-cpp's estimates. Such a file is listed with the reason and never sent to load.

import type { GgufHeader } from "../../common-node/gguf/gguf-reader.js";
import type { GgufDescription } from "../../common-node/gguf/gguf-reader.js";

/** LLAMA_MAX_LAYERS in llama.cpp's llama-hparams.h: per-layer arrays have this many slots. */
export const LLAMA_MAX_LAYERS = 512;

/** Architectures without attention in every layer: their converters write head counts of 0. */
const RECURRENT_ARCHITECTURES: ReadonlySet<string> = new Set(["mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"]);

/** Why llama.cpp must not be asked to load this model, or null when nothing here stops it. */
export function loadRefusal(header: GgufHeader, description: GgufDescription): string | null {
  if (description.unknownTensorTypes.length > 0) {
    const ids = description.unknownTensorTypes.join(", ");
    return `It has tensors of a type this version of llama.cpp does not know (type id ${ids}), so it cannot be loaded; a newer version of Quanta may load it.`;
  }
  const arch = description.architecture;
  if (arch === null) return null;
  const { metadata } = header;
  // Hyperparameters are counts and sizes: a value past 2^53 is damage, not a model.
  for (const key of Object.keys(metadata)) {
    if (!key.startsWith(`${arch}.`)) continue;
    const value = metadata[key];
    if (typeof value === "bigint") return `Its header says ${key} = ${value}, a number larger than any model has: the file is damaged.`;
  }
  const scalar = (suffix: string): number | null => {
    const value = metadata[`${arch}.${suffix}`];
    return typeof value === "number" ? value : null;
  };
  const layers = scalar("block_count");
  if (layers !== null && layers > LLAMA_MAX_LAYERS) {
    return `Its header says the model has ${layers} layers (${arch}.block_count), more than the ${LLAMA_MAX_LAYERS} llama.cpp can load: the file is damaged.`;
  }
  const embedding = scalar("embedding_length");
  if (embedding !== null && embedding <= 0) {
    return `Its header says the embedding length is ${embedding} (${arch}.embedding_length): the file is damaged.`;
  }
  if (!RECURRENT_ARCHITECTURES.has(arch)) {
    for (const suffix of ["attention.head_count", "attention.head_count_kv"]) {
      const heads = scalar(suffix);
      if (heads !== null && heads <= 0) {
        return `Its header says the model has ${heads} attention heads (${arch}.${suffix}); llama.cpp cannot run a ${arch} model without them: the file is damaged.`;
      }
    }
  }
  return null;
}
