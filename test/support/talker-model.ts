// The e2e tests' slow talker: random weights and a 32,000-token vocabulary, so a reply runs until
// it is stopped, slowly enough (about 40M parameters) for a person to watch it grow and press Stop.

import path from "node:path";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { TINY_RANDOM_MODEL } from "./paths.js";

/** Writes `synthetic-talker.gguf` into the folder. */
export async function writeTalkerModel(folder: string): Promise<void> {
  await writeSyntheticLlama(path.join(folder, "synthetic-talker.gguf"), {
    tokenizerFrom: TINY_RANDOM_MODEL,
    embeddingLength: 512,
    layers: 2,
    feedForwardLength: 1024,
    heads: 8,
    contextLength: 4096,
    type: "F32",
    seed: 7,
    name: "synthetic-talker",
  });
}
