// The Lab e2e tests' model to quantize: a small F32 llama with stories260K's vocabulary, the
// family "toy", so a variant is made and measured in seconds.

import path from "node:path";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { STORIES_MODEL } from "./paths.js";

/** Writes `toy-F32.gguf` into the folder. */
export async function writeToyModel(folder: string): Promise<void> {
  await writeSyntheticLlama(path.join(folder, "toy-F32.gguf"), {
    tokenizerFrom: STORIES_MODEL,
    embeddingLength: 256,
    layers: 2,
    type: "F32",
    seed: 5,
    name: "toy",
  });
}
