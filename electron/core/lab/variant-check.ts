// Whether files are variants of one model: same architecture, same vocabulary (the token
// list itself, not only its length) and the same tensors with the same shapes. Only then do
// their per-token distributions compare position by position. A mixed precision recipe
// (quanta.recipe) changes tensor types, never names or shapes, so it is the same model.

import { createHash } from "node:crypto";
import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import { describeGguf, readGgufHeader, type GgufDescription } from "../../common-node/gguf/gguf-reader.js";
import { parseQuantRecipe, RECIPE_METADATA_KEY } from "../../common-node/gguf/quant-types.js";
import { tensorSignature } from "../library/model-family.js";

export interface VariantFile {
  path: string;
  modelId: string | null;
  sizeBytes: number;
  description: GgufDescription;
  /** SHA-256 of the token list. */
  vocabularyHash: string;
  /** The library's tensorSignature: a digest of every tensor's name and shape. */
  shapes: string;
  /** The mixed precision recipe in the file's metadata ("Q4_K_M+Q8_0"), null for a plain type or a name Quanta does not know. */
  recipe: string | null;
}

export async function readVariant(file: string, modelId: string | null): Promise<VariantFile> {
  const header = await readGgufHeader(file, { keepArraysUpTo: Infinity });
  const description = describeGguf(header, file);
  const tokens = header.metadata["tokenizer.ggml.tokens"];
  const vocabularyHash = createHash("sha256")
    .update(JSON.stringify(Array.isArray(tokens) ? tokens.map(String) : null))
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a value read from the file, whatever its type; the digest of files already checked must not change
    .update(String(header.metadata["tokenizer.ggml.model"] ?? ""))
    .digest("hex");
  const shapes = tensorSignature(header.tensors);
  const recipeValue = header.metadata[RECIPE_METADATA_KEY];
  const recipe = typeof recipeValue === "string" ? (parseQuantRecipe(recipeValue)?.name ?? null) : null;
  return { path: file, modelId, sizeBytes: header.fileSize, description, vocabularyHash, shapes, recipe };
}

/** Throws "invalid_request" naming the first difference, else returns the reference (most bits per weight). */
export function checkVariantsOfOneModel(variants: readonly VariantFile[]): VariantFile {
  const [first, ...rest] = variants;
  if (!first || rest.length === 0) throw new QuantaError("invalid_request", "Choose at least two variants to compare.");
  const name = (variant: VariantFile): string => path.basename(variant.path);
  const seen = new Set<string>();
  for (const variant of variants) {
    if (seen.has(variant.path)) throw new QuantaError("invalid_request", `${name(variant)} is chosen twice.`);
    seen.add(variant.path);
    if (variant.description.vocabSize === null) {
      throw new QuantaError("invalid_request", `${name(variant)} has no vocabulary in its header, so it cannot be evaluated.`);
    }
    if (variant.description.unknownTensorTypes.length > 0) {
      throw new QuantaError(
        "invalid_request",
        `${name(variant)} has tensors of a type llama.cpp does not know (id ${variant.description.unknownTensorTypes.join(", ")}), so it cannot be evaluated.`,
      );
    }
  }
  for (const other of rest) {
    const differs = (what: string, a: string, b: string) =>
      new QuantaError(
        "invalid_request",
        `${name(first)} and ${name(other)} are not variants of one model: ${what} differ (${a} vs ${b}). Compare quantizations of the same model only.`,
      );
    if (other.description.architecture !== first.description.architecture) {
      throw differs("their architectures", String(first.description.architecture), String(other.description.architecture));
    }
    if (other.vocabularyHash !== first.vocabularyHash) {
      throw differs("their vocabularies", `${first.description.vocabSize} tokens`, `${other.description.vocabSize} tokens`);
    }
    if (other.shapes !== first.shapes) {
      throw differs(
        "their tensor shapes",
        `${first.description.parameterCount} parameters`,
        `${other.description.parameterCount} parameters`,
      );
    }
  }
  return [...variants].sort((a, b) => (b.description.bitsPerWeight ?? 0) - (a.description.bitsPerWeight ?? 0))[0] ?? first;
}
