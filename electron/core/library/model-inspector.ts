// The inspector: everything one GGUF model's header says (architecture, sizes, tokenizer,
// licence, every metadata key, the tensor table, bytes by quantization type), computed from
// headers read by gguf-reader, never from the weights. A split model passes one header per part.

import type { MetadataRow, ModelInspection, QuantBreakdownRow, TensorRow } from "../../contract/types.js";
import { describeGguf, type GgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { isGgufArraySummary, type GgufValue, type GgufValueTypeInfo } from "../../common-node/gguf/gguf-types.js";

/** Long strings and arrays are cut in the metadata table; the chat template is shown whole elsewhere. */
const MAX_VALUE_CHARS = 240;
const MAX_ARRAY_ITEMS = 8;

export interface InspectInput {
  modelId: string;
  fileName: string;
  /** The headers of every part, first part first. */
  headers: readonly GgufHeader[];
  readMs: number;
}

export function inspectGguf({ modelId, fileName, headers, readMs }: InspectInput): ModelInspection {
  const first = headers[0];
  if (first === undefined) throw new Error("inspectGguf needs at least one header");
  // Every part's tensors make the model; the metadata that describes it is in the first part.
  const merged: GgufHeader = { ...first, tensors: headers.flatMap((header) => header.tensors) };
  const description = describeGguf(merged, fileName);
  const { metadata } = first;
  const arch = description.architecture;
  const archCount = (suffix: string): number | null => (arch === null ? null : count(metadata[`${arch}.${suffix}`]));

  const tensors: TensorRow[] = merged.tensors.map((tensor) => ({
    name: tensor.name,
    type: tensor.type,
    shape: [...tensor.dims],
    elements: tensor.elementCount,
    bytes: tensor.byteSize,
  }));

  const chatTemplate = text(metadata["tokenizer.chat_template"]);
  return {
    modelId,
    fileName,
    sizeBytes: headers.reduce((sum, header) => sum + header.fileSize, 0),
    parts: headers.length,
    ggufVersion: first.version,
    architecture: arch,
    name: description.name,
    basename: text(metadata["general.basename"]),
    sizeLabel: text(metadata["general.size_label"]),
    license: text(metadata["general.license"]) ?? text(metadata["general.license.name"]),
    fileType: description.fileType,
    parameterCount: description.parameterCount,
    tensorBytes: description.tensorBytes,
    contextLength: description.contextLength,
    layers: description.layers,
    embeddingLength: description.embeddingLength,
    headCount: archCount("attention.head_count"),
    headCountKv: archCount("attention.head_count_kv"),
    feedForwardLength: archCount("feed_forward_length"),
    vocabSize: description.vocabSize,
    tokenizerModel: text(metadata["tokenizer.ggml.model"]),
    chatTemplate: chatTemplate !== null && chatTemplate.trim() !== "" ? chatTemplate : null,
    bitsPerWeight: description.bitsPerWeight,
    byType: breakdownByType(tensors, description.tensorBytes),
    tensors,
    metadata: Object.keys(metadata)
      .sort()
      .map((key) => metadataRow(key, metadata[key], first.metadataTypes[key])),
    readMs,
  };
}

/** Bytes, elements and tensors per tensor type, the largest share first. */
export function breakdownByType(tensors: readonly TensorRow[], totalBytes: number): QuantBreakdownRow[] {
  const rows = new Map<string, QuantBreakdownRow>();
  for (const tensor of tensors) {
    const row = rows.get(tensor.type) ?? { type: tensor.type, tensors: 0, elements: 0, bytes: 0, share: 0 };
    row.tensors += 1;
    row.elements += tensor.elements;
    row.bytes += tensor.bytes;
    rows.set(tensor.type, row);
  }
  return [...rows.values()]
    .map((row) => ({ ...row, share: totalBytes === 0 ? 0 : row.bytes / totalBytes }))
    .sort((a, b) => b.bytes - a.bytes || a.type.localeCompare(b.type));
}

function metadataRow(key: string, value: GgufValue | undefined, info: GgufValueTypeInfo | undefined): MetadataRow {
  const type = info === undefined ? "unknown" : info.type === "array" ? `array of ${info.itemType ?? "unknown"}` : info.type;
  return { key, type, value: render(value) };
}

function render(value: GgufValue | undefined): string {
  if (value === undefined) return "";
  if (isGgufArraySummary(value)) return `[${value.length} items]`;
  if (Array.isArray(value)) {
    const shown = value.slice(0, MAX_ARRAY_ITEMS).map((item) => render(item));
    const more = value.length > MAX_ARRAY_ITEMS ? `, … (${value.length} items)` : "";
    return cut(`[${shown.join(", ")}${more}]`);
  }
  if (typeof value === "string") return cut(JSON.stringify(value));
  return String(value);
}

function cut(value: string): string {
  return value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS - 1)}…` : value;
}

function text(value: GgufValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

function count(value: GgufValue | undefined): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}
