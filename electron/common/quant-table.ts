// llama.cpp's quantization types with their typical bits per weight, and Quanta's mixed
// precision recipes over them: pure values shared by the core, the engine and the renderer
// (the Lab's planner), so every size Quanta predicts uses one table.

export interface QuantTypeInfo {
  /** llama_ftype in llama.h: the value llama_model_quantize_params.ftype takes. */
  readonly ftype: number;
  /**
   * Typical bits per weight of a whole file of this type: llama-quantize's own size table
   * (Llama-3-8B) converted to bits per weight; for IQ4 and the float types, the nominal size.
   * Used to predict the output size; a small model's mix differs by some percent.
   */
  readonly bitsPerWeight: number;
}

/**
 * llama.cpp's target types that Quanta offers, best first, with their llama_ftype numbers.
 * None of them needs an importance matrix (see IMATRIX_TYPES for those that do).
 */
export const QUANT_TYPES = {
  Q8_0: { ftype: 7, bitsPerWeight: 8.5 },
  Q6_K: { ftype: 18, bitsPerWeight: 6.57 },
  Q5_K_M: { ftype: 17, bitsPerWeight: 5.7 },
  Q5_K_S: { ftype: 16, bitsPerWeight: 5.57 },
  Q5_0: { ftype: 8, bitsPerWeight: 5.57 },
  Q4_K_M: { ftype: 15, bitsPerWeight: 4.9 },
  Q4_K_S: { ftype: 14, bitsPerWeight: 4.67 },
  Q4_0: { ftype: 2, bitsPerWeight: 4.64 },
  Q3_K_L: { ftype: 13, bitsPerWeight: 4.31 },
  Q3_K_M: { ftype: 12, bitsPerWeight: 4.0 },
  Q3_K_S: { ftype: 11, bitsPerWeight: 3.65 },
  Q2_K: { ftype: 10, bitsPerWeight: 3.17 },
  IQ4_NL: { ftype: 25, bitsPerWeight: 4.5 },
  IQ4_XS: { ftype: 30, bitsPerWeight: 4.25 },
  F16: { ftype: 1, bitsPerWeight: 16 },
  BF16: { ftype: 32, bitsPerWeight: 16 },
  F32: { ftype: 0, bitsPerWeight: 32 },
} as const satisfies Record<string, QuantTypeInfo>;

export type QuantType = keyof typeof QUANT_TYPES;

/** The offered type names in QUANT_TYPES's order. */
export const QUANT_TYPE_NAMES = Object.keys(QUANT_TYPES) as QuantType[];

/**
 * Types llama.cpp refuses to make without an importance matrix (llama-quant.cpp,
 * tensor_requires_imatrix: IQ1_*, IQ2_*, IQ3_XXS tensors, and Q2_K inside Q2_K_S). Quanta
 * does not compute importance matrices yet, so these are not offered; asking for one is
 * refused with that reason. Values are llama_ftype numbers.
 */
export const IMATRIX_TYPES = {
  IQ2_XXS: 19,
  IQ2_XS: 20,
  Q2_K_S: 21,
  IQ3_XS: 22,
  IQ3_XXS: 23,
  IQ1_S: 24,
  IQ2_S: 28,
  IQ2_M: 29,
  IQ1_M: 31,
} as const;

export function isQuantType(value: string): value is QuantType {
  return Object.hasOwn(QUANT_TYPES, value);
}

// ---- Mixed precision recipes ---------------------------------------------------------------
//
// A recipe keeps the output tensor (output.weight) and the token embeddings (token_embd.weight)
// at a higher precision than the rest of the file: llama-quantize's --output-tensor-type and
// --token-embedding-type, the widely published "_L" variants (Q4_K_M with Q8_0 output and
// embeddings). Quanta names a recipe `<base>+<kept type>`, e.g. "Q4_K_M+Q8_0", in the Lab, the
// CLI, the file name (model-Q4_K_M+Q8_0.gguf) and the file's metadata (quanta.recipe);
// general.file_type stays the base type's, as llama-quantize writes it.

/** The types output and token-embedding tensors can be kept at, with their ggml_type numbers (ggml.h). */
export const RECIPE_KEEP_TYPES = {
  Q8_0: { ggmlType: 8, bitsPerWeight: 8.5 },
  F16: { ggmlType: 1, bitsPerWeight: 16 },
} as const;

export type RecipeKeepType = keyof typeof RECIPE_KEEP_TYPES;

/** The GGUF metadata key Quanta writes a recipe's name under. */
export const RECIPE_METADATA_KEY = "quanta.recipe";

/** The tensors a recipe keeps at higher precision (llama.cpp's OUTPUT and TOKEN_EMBD tensors). */
export const RECIPE_TENSORS: readonly string[] = ["output.weight", "token_embd.weight"];

export interface QuantRecipe {
  /** "Q4_K_M+Q8_0" */
  name: string;
  base: QuantType;
  keep: RecipeKeepType;
}

/** "Q4_K_M+Q8_0" (any case) → the recipe; null for a plain type name or anything else. */
export function parseQuantRecipe(name: string): QuantRecipe | null {
  const match = /^([A-Z0-9_]+)\+([A-Z0-9_]+)$/i.exec(name.trim());
  if (!match?.[1] || !match[2]) return null;
  const base = match[1].toUpperCase();
  const keep = match[2].toUpperCase();
  if (!isQuantType(base) || !Object.hasOwn(RECIPE_KEEP_TYPES, keep)) return null;
  return { name: `${base}+${keep}`, base, keep: keep as RecipeKeepType };
}

/**
 * Whether keeping the output and embeddings at `keep` over `base` buys anything: the kept
 * type must have more bits than the base (Q8_0+Q8_0 is plain Q8_0; float bases are not targets).
 */
export function recipeMakesSense(base: QuantType, keep: RecipeKeepType): boolean {
  return RECIPE_KEEP_TYPES[keep].bitsPerWeight > QUANT_TYPES[base].bitsPerWeight && !["F16", "BF16", "F32"].includes(base);
}

/** The recipes over the given base types, in the bases' order, Q8_0 before F16. */
export function recipesOver(bases: readonly QuantType[]): QuantRecipe[] {
  const recipes: QuantRecipe[] = [];
  for (const base of bases) {
    for (const keep of Object.keys(RECIPE_KEEP_TYPES) as RecipeKeepType[]) {
      if (recipeMakesSense(base, keep)) recipes.push({ name: `${base}+${keep}`, base, keep });
    }
  }
  return recipes;
}
