// What a GGUF file's name says: the quantization (…-Q4_K_M.gguf) and whether it is one part of
// a split model (…-00001-of-00003.gguf). Hubs and people name files this way; the header has
// the final word wherever it can be read. Quanta's mixed precision recipes add the type the
// output and embeddings are kept at: …-Q4_K_M+Q8_0.gguf (electron/common/quant-table.ts).

const QUANT_TOKEN =
  /(?:^|[-_.\s])((?:UD-)?(?:I?Q[1-8](?:_[0-9A-Z]+)*|F16|F32|BF16|FP16|FP32|TQ[12]_0|MXFP4(?:_MOE)?)(?:\+(?:Q8_0|F16))?)(?=$|[-_.\s])/gi;
const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

export interface SplitPart {
  /** The name with the part suffix removed (and .gguf kept). */
  stem: string;
  index: number;
  total: number;
}

/** Part n of N of a split GGUF (llama.cpp's gguf-split naming), or null for an ordinary file. */
export function splitPart(fileName: string): SplitPart | null {
  const match = SPLIT.exec(fileName);
  if (!match?.[1] || !match[2] || !match[3]) return null;
  const index = Number(match[2]);
  const total = Number(match[3]);
  if (index < 1 || total < 2 || index > total) return null;
  return { stem: `${match[1]}.gguf`, index, total };
}

/** The file names of every part of a split model, given any one of them. */
export function splitPartNames(fileName: string): string[] | null {
  const part = splitPart(fileName);
  if (!part) return null;
  const base = part.stem.replace(/\.gguf$/i, "");
  const total = String(part.total).padStart(5, "0");
  return Array.from({ length: part.total }, (_, i) => `${base}-${String(i + 1).padStart(5, "0")}-of-${total}.gguf`);
}

/** The quantization named in a file name ("Q4_K_M", "F16"), upper-cased; null when none is. */
export function quantizationFromFileName(fileName: string): string | null {
  const stem = (splitPart(fileName)?.stem ?? fileName).replace(/\.gguf$/i, "");
  let last: string | null = null;
  for (const match of stem.matchAll(QUANT_TOKEN)) last = match[1] ?? last;
  return last === null ? null : last.toUpperCase();
}

/** The file name without .gguf, the split suffix and the quantization: what the variants share. */
export function stripQuantSuffix(fileName: string): string {
  const stem = (splitPart(fileName)?.stem ?? fileName).replace(/\.gguf$/i, "");
  const stripped = stem.replace(QUANT_TOKEN, "").replace(/[-_.\s]+$/, "");
  return stripped === "" ? stem : stripped;
}
