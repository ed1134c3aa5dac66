// The quantization types Quanta offers, with llama.cpp's numbers for them: shared by the core
// (which plans and checks a Lab job) and the engine (which runs llama.cpp's quantizer). The
// table itself is pure (electron/common/quant-table.ts) so the renderer's planner uses it too.

import { QuantaError } from "../../contract/errors.js";
import type { GgufHeader } from "./gguf-reader.js";
import { QUANT_TYPES, RECIPE_KEEP_TYPES, RECIPE_TENSORS, type QuantRecipe, type QuantType } from "../../common/quant-table.js";

export {
  IMATRIX_TYPES,
  isQuantType,
  parseQuantRecipe,
  QUANT_TYPE_NAMES,
  QUANT_TYPES,
  RECIPE_KEEP_TYPES,
  RECIPE_METADATA_KEY,
  RECIPE_TENSORS,
  recipeMakesSense,
  recipesOver,
  type QuantRecipe,
  type QuantType,
  type QuantTypeInfo,
  type RecipeKeepType,
} from "../../common/quant-table.js";

/** Sources worth quantizing from: anything lower would stack one quantization's error on another's. */
export const SOURCE_TYPES: ReadonlySet<string> = new Set(["F32", "F16", "BF16", "Q8_0"]);

/**
 * The output's size predicted from the source's header: tensors llama.cpp quantizes (named
 * *weight, two or more dimensions, not norms) at the type's typical bits per weight, the rest
 * as they are, each padded to the file's alignment, plus the source's header size. With a
 * recipe, its output and token-embedding tensors count at the kept type's bits per weight. A
 * source with a tensor of unknown type (unknown size) has no prediction: it is refused.
 */
export function estimateQuantizedBytes(header: GgufHeader, type: QuantType, recipe: QuantRecipe | null = null): number {
  const bits = QUANT_TYPES[type].bitsPerWeight;
  const pad = (bytes: number): number => Math.ceil(bytes / header.alignment) * header.alignment;
  let total = header.dataOffset;
  for (const tensor of header.tensors) {
    const quantized = tensor.dims.length >= 2 && tensor.name.endsWith("weight") && !tensor.name.includes("_norm.");
    if (!quantized && tensor.byteSize === null) {
      throw new QuantaError(
        "model_invalid",
        `The tensor ${JSON.stringify(tensor.name.slice(0, 80))} has a type this version of llama.cpp does not know (id ${tensor.typeId}), so the model cannot be quantized.`,
      );
    }
    const tensorBits = recipe && RECIPE_TENSORS.includes(tensor.name) ? RECIPE_KEEP_TYPES[recipe.keep].bitsPerWeight : bits;
    total += pad(quantized ? Math.ceil((tensor.elementCount * tensorBits) / 8) : (tensor.byteSize ?? 0));
  }
  return total;
}
