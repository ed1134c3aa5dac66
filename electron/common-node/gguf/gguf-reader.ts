// Reads the header of a GGUF model file (metadata and tensor table, never the weights) with
// positional reads, so a multi-GB file opens in milliseconds. The files are untrusted: every
// count, length and offset is checked, and every failure is a QuantaError("model_invalid")
// whose message names the file and says what is wrong.
//
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md; checks mirror llama.cpp's
// own loader (ggml/src/gguf.cpp) so a file rejected here would be rejected there too.
// Pure TypeScript on node:fs, in common/ because the core (library, Lab) and the engine
// (quantizer) both read headers; native code (node-llama-cpp) lives only in the engine.

import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { QuantaError } from "../../contract/errors.js";
import {
  GGML_TYPE_BY_ID,
  GGUF_VALUE_TYPES,
  LLAMA_FILE_TYPES,
  REMOVED_GGML_TYPES,
  ggufArrayLength,
  type GgufScalarType,
  type GgufTensorType,
  type GgufValue,
  type GgufValueType,
  type GgufValueTypeInfo,
  type GgufArraySummary,
} from "./gguf-types.js";

// ---------------------------------------------------------------------------------------------
// Header

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: dims[0] (ne0) is the row length, the fastest-varying dimension. */
  readonly dims: number[];
  /** Null for a type id this table does not know (a newer llama.cpp's, or a damaged file). */
  readonly type: GgufTensorType | null;
  readonly typeId: number;
  /** Byte offset of the tensor's data, relative to GgufHeader.dataOffset. */
  readonly offset: number;
  readonly elementCount: number;
  /** Null when the type is unknown: its block size, and so its size, cannot be computed. */
  readonly byteSize: number | null;
}

export interface GgufHeader {
  readonly version: number;
  readonly alignment: number;
  /** Where the tensor data section starts in the file. */
  readonly dataOffset: number;
  readonly fileSize: number;
  /** Null-prototype object: a key such as "__proto__" is an ordinary own property. */
  readonly metadata: Record<string, GgufValue>;
  /** Declared type of every metadata key (null-prototype object as well). */
  readonly metadataTypes: Record<string, GgufValueTypeInfo>;
  readonly tensors: GgufTensorInfo[];
}

export interface ReadGgufHeaderOptions {
  /** Arrays with more items than this are summarized, not materialized. Default 64. */
  keepArraysUpTo?: number;
}

/** Bounds for the values of an untrusted header. */
export const GGUF_LIMITS = {
  maxTensors: 1_000_000,
  maxMetadataEntries: 1_000_000,
  maxStringBytes: 64 * 1024 * 1024,
  /** GGML_MAX_NAME: llama.cpp rejects tensor names of 64 bytes or more. */
  maxTensorNameBytes: 63,
  maxDims: 4,
  /** Nested arrays are legal GGUF but nobody writes them deeply; deeper means corrupt. */
  maxArrayDepth: 8,
} as const;

const DEFAULT_ALIGNMENT = 32;
const DEFAULT_KEEP_ARRAYS_UP_TO = 64;
const READ_CHUNK_BYTES = 64 * 1024;
const GGUF_MAGIC = "GGUF";

/** Fewest bytes one metadata entry or tensor info can take (used to reject absurd counts early). */
const MIN_METADATA_ENTRY_BYTES = 8 + 1 + 4 + 1; // key length, 1-byte key, type, 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // name length, n_dims, one dim, type, offset

/** Bytes a single item of a fixed-size type takes; strings and arrays are variable. */
const FIXED_SIZES: Partial<Record<GgufValueType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** Minimum bytes an array item takes: a string is at least its length, an array its header. */
function minItemBytes(type: GgufValueType): number {
  if (type === "string") return 8;
  if (type === "array") return 4 + 8;
  return FIXED_SIZES[type] ?? 1;
}

/**
 * Reads the header of the GGUF file at `path`: metadata and tensor infos, never tensor data.
 * Throws QuantaError "model_invalid" for anything that is not a well-formed, complete GGUF v2/v3
 * little-endian file, and "not_found" when there is no file at `path`.
 */
export async function readGgufHeader(path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufHeader> {
  const fileName = basename(path);
  const keepArraysUpTo = options.keepArraysUpTo ?? DEFAULT_KEEP_ARRAYS_UP_TO;

  let file: FileHandle;
  try {
    // Non-blocking, so a FIFO named *.gguf is refused below instead of waiting for a writer.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fileSystemError(fileName, error);
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw invalid(`${fileName} is not a regular file, so it cannot be a GGUF model.`);
    const parser = new HeaderParser(file, stat.size, fileName, keepArraysUpTo);
    return await parser.parse();
  } catch (error) {
    if (error instanceof QuantaError) throw error;
    throw fileSystemError(fileName, error);
  } finally {
    await file.close().catch(() => undefined);
  }
}

function invalid(message: string): QuantaError {
  return new QuantaError("model_invalid", message);
}

function fileSystemError(fileName: string, error: unknown): QuantaError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return new QuantaError("not_found", `${fileName} does not exist.`);
  if (code === "EISDIR") return invalid(`${fileName} is a folder, not a GGUF model file.`);
  if (code === "ELOOP") return invalid(`${fileName} is a symbolic link that leads back to itself (a link loop), not a model file.`);
  const detail = error instanceof Error ? error.message : String(error);
  return invalid(`${fileName} could not be read as a GGUF model (${detail}).`);
}

/**
 * A forward cursor over the file with a read-ahead buffer. The `has`/`fill` split keeps the
 * common case (the bytes are already buffered) synchronous: awaiting on every value of a
 * 150,000-item token array would cost more than reading it.
 */
class HeaderParser {
  private buffer: Buffer = Buffer.alloc(0);
  private bufferStart = 0;
  private bufferEnd = 0;
  private pos = 0;
  /** What is being read, for error messages: `metadata entry 3 of 24 ("general.name")`. */
  private context = "the file signature";

  constructor(
    private readonly file: FileHandle,
    private readonly fileSize: number,
    private readonly fileName: string,
    private readonly keepArraysUpTo: number,
  ) {}

  async parse(): Promise<GgufHeader> {
    const { fileName, fileSize } = this;
    if (fileSize === 0) throw invalid(`${fileName} is empty (0 bytes), so it is not a GGUF model.`);

    await this.checkSignature();

    this.context = "the GGUF version";
    await this.need(4);
    const version = this.u32();
    this.checkVersion(version);

    this.context = "the tensor and metadata counts";
    await this.need(16);
    const tensorCount = this.u64Number();
    const kvCount = this.u64Number();
    if (kvCount > GGUF_LIMITS.maxMetadataEntries) {
      throw invalid(`${fileName} is damaged: its header claims ${formatCount(kvCount)} metadata entries, more than any model has.`);
    }
    if (tensorCount > GGUF_LIMITS.maxTensors) {
      throw invalid(`${fileName} is damaged: its header claims ${formatCount(tensorCount)} tensors, more than any model has.`);
    }
    const minimumHeaderBytes = kvCount * MIN_METADATA_ENTRY_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES;
    if (minimumHeaderBytes > this.remaining()) {
      throw invalid(
        `${fileName} is truncated or damaged: its header announces ${kvCount} metadata entries and ${tensorCount} tensors, ` +
          `which cannot fit in the ${fileSize} bytes of the file.`,
      );
    }

    const metadata = Object.create(null) as Record<string, GgufValue>;
    const metadataTypes = Object.create(null) as Record<string, GgufValueTypeInfo>;
    for (let index = 0; index < kvCount; index++) {
      this.context = `metadata entry ${index + 1} of ${kvCount}`;
      const key = await this.readString();
      if (key === "") throw invalid(`${fileName} is damaged: ${this.context} has an empty key.`);
      if (Object.hasOwn(metadata, key)) throw invalid(`${fileName} is damaged: the metadata key ${quote(key)} appears twice.`);
      this.context = `metadata entry ${index + 1} of ${kvCount} (${quote(key)})`;
      await this.need(4);
      const type = this.valueType(this.u32());
      if (type === "array") {
        await this.need(12);
        const itemType = this.valueType(this.u32());
        const length = this.u64Number();
        metadata[key] = await this.readArrayBody(itemType, length, 1);
        metadataTypes[key] = { type, itemType };
      } else {
        metadata[key] = await this.readScalar(type);
        metadataTypes[key] = { type };
      }
    }

    const alignment = this.alignmentOf(metadata, metadataTypes);

    const tensors: GgufTensorInfo[] = [];
    const tensorNames = new Set<string>();
    for (let index = 0; index < tensorCount; index++) {
      this.context = `tensor ${index + 1} of ${tensorCount}`;
      const tensor = await this.readTensorInfo(alignment);
      if (tensorNames.has(tensor.name)) throw invalid(`${fileName} is damaged: the tensor ${quote(tensor.name)} appears twice.`);
      tensorNames.add(tensor.name);
      tensors.push(tensor);
    }

    // llama.cpp pads the data section's start only when there is data (vocab-only files have none).
    this.context = "the padding before the tensor data";
    const dataOffset = tensorCount > 0 ? alignUp(this.pos, alignment) : this.pos;
    if (dataOffset > fileSize) throw this.truncatedHeader();

    // A tensor of unknown type has no known size: only where it starts can be checked.
    let dataEnd = dataOffset;
    for (const tensor of tensors) dataEnd = Math.max(dataEnd, dataOffset + tensor.offset + (tensor.byteSize ?? 0));
    if (dataEnd > fileSize) {
      throw invalid(`${fileName} is truncated: its tensors need ${dataEnd} bytes but the file has ${fileSize}.`);
    }
    // Tensors may be stored in any order, but never on top of each other.
    const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < byOffset.length; i++) {
      const previous = byOffset[i - 1];
      const tensor = byOffset[i];
      if (previous?.byteSize != null && tensor !== undefined && tensor.offset < previous.offset + previous.byteSize) {
        throw invalid(`${fileName} is damaged: the data of tensors ${quote(previous.name)} and ${quote(tensor.name)} overlap.`);
      }
    }

    return { version, alignment, dataOffset, fileSize, metadata, metadataTypes, tensors };
  }

  // ---- structure ----------------------------------------------------------------------------

  private async checkSignature(): Promise<void> {
    const { fileName } = this;
    const probeLength = Math.min(this.fileSize, 64);
    await this.need(probeLength);
    const probe = this.buffer.subarray(0, probeLength);
    if (probe.subarray(0, 4).toString("latin1") === GGUF_MAGIC) {
      this.pos = 4;
      return;
    }
    const text = probe.toString("latin1");
    if (text.startsWith("version https://git-lfs")) {
      throw invalid(`${fileName} is a Git LFS pointer, not the model itself: the download fetched the placeholder instead of the weights.`);
    }
    if (/^\s*<(!doctype|html|\?xml)/i.test(text)) {
      throw invalid(`${fileName} is a web page, not a GGUF model: the download probably saved an error or login page.`);
    }
    // The GGML-era formats stored their magic as a little-endian uint32.
    const legacy = probe.length >= 4 ? probe.readUInt32LE(0) : 0;
    if (legacy === 0x67676d6c || legacy === 0x67676d66 || legacy === 0x67676a74) {
      throw invalid(`${fileName} uses the old GGML format, which llama.cpp no longer reads; convert it to GGUF first.`);
    }
    if (probe.length < 4) {
      throw invalid(`${fileName} is not a GGUF file (it is only ${probe.length} bytes long, too short even for the GGUF signature).`);
    }
    throw invalid(`${fileName} is not a GGUF file (it does not start with the GGUF signature).`);
  }

  private checkVersion(version: number): void {
    const { fileName } = this;
    if (version === 2 || version === 3) return;
    // A big-endian file read as little-endian has its small version number in the top byte.
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if ((version & 0xffff) === 0 && swapped >= 1 && swapped <= 3) {
      throw invalid(
        `${fileName} is a big-endian GGUF file; only little-endian GGUF files (what converters write by default) can be loaded.`,
      );
    }
    if (version === 1) {
      throw invalid(`${fileName} uses GGUF version 1, which llama.cpp no longer reads; convert the model again with a current llama.cpp.`);
    }
    throw invalid(`${fileName} has GGUF version ${version}, which this app cannot read (it reads versions 2 and 3).`);
  }

  private alignmentOf(metadata: Record<string, GgufValue>, types: Record<string, GgufValueTypeInfo>): number {
    const key = "general.alignment";
    if (!Object.hasOwn(metadata, key)) return DEFAULT_ALIGNMENT;
    const value = metadata[key];
    if (types[key]?.type !== "uint32" || typeof value !== "number") {
      throw invalid(`${this.fileName} is damaged: general.alignment must be a uint32 but is a ${describeType(types[key])}.`);
    }
    if (value === 0 || (value & (value - 1)) !== 0) {
      throw invalid(`${this.fileName} is damaged: its alignment (general.alignment = ${value}) is not a power of two.`);
    }
    return value;
  }

  private async readTensorInfo(alignment: number): Promise<GgufTensorInfo> {
    const { fileName } = this;
    const name = await this.readString();
    if (Buffer.byteLength(name) > GGUF_LIMITS.maxTensorNameBytes) {
      throw invalid(
        `${fileName} is damaged: ${this.context} has a name longer than the ${GGUF_LIMITS.maxTensorNameBytes} bytes llama.cpp allows.`,
      );
    }
    this.context = `${this.context} (${quote(name)})`;

    await this.need(4);
    const nDims = this.u32();
    if (nDims < 1 || nDims > GGUF_LIMITS.maxDims) {
      throw invalid(`${fileName} is damaged: ${this.context} has ${nDims} dimensions (a tensor has 1 to ${GGUF_LIMITS.maxDims}).`);
    }
    await this.need(nDims * 8 + 4 + 8);
    const dims: number[] = [];
    let elementCount = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = this.u64Number();
      if (dim < 1 || !Number.isSafeInteger(dim)) {
        throw invalid(`${fileName} is damaged: ${this.context} has an invalid size ${formatCount(dim)} in dimension ${d}.`);
      }
      elementCount *= dim;
      if (!Number.isSafeInteger(elementCount)) {
        throw invalid(`${fileName} is damaged: ${this.context} claims more elements than any file can hold.`);
      }
      dims.push(dim);
    }

    const typeId = this.u32();
    const traits = GGML_TYPE_BY_ID.get(typeId);
    const removed = REMOVED_GGML_TYPES.get(typeId);
    if (removed !== undefined) {
      throw invalid(`${fileName} uses the tensor type ${removed} (id ${typeId}) in ${this.context}, which llama.cpp no longer supports.`);
    }
    const rowLength = dims[0] ?? 0;
    if (traits !== undefined && rowLength % traits.blockSize !== 0) {
      throw invalid(
        `${fileName} is damaged: ${this.context} is ${traits.name} with rows of ${rowLength} elements, ` +
          `not a multiple of that type's block size ${traits.blockSize}.`,
      );
    }
    // New llama.cpp types appear every few months: an unknown id is listed, its size unknown.
    const byteSize = traits === undefined ? null : (elementCount / traits.blockSize) * traits.bytesPerBlock;

    const offset = this.u64Number();
    if (!Number.isSafeInteger(offset)) {
      throw invalid(`${fileName} is damaged: ${this.context} has an invalid data offset (${formatCount(offset)}).`);
    }
    if (offset % alignment !== 0) {
      throw invalid(
        `${fileName} is damaged: ${this.context} starts at data offset ${offset}, which is not a multiple of the alignment ${alignment}.`,
      );
    }
    return { name, dims, type: traits?.name ?? null, typeId, offset, elementCount, byteSize };
  }

  // ---- values -------------------------------------------------------------------------------

  private valueType(id: number): GgufValueType {
    const type = GGUF_VALUE_TYPES[id];
    if (type === undefined) {
      throw invalid(`${this.fileName} is damaged: ${this.context} has an unknown value type (id ${id}).`);
    }
    return type;
  }

  private async readScalar(type: GgufScalarType): Promise<GgufValue> {
    if (type === "string") return this.readString();
    await this.need(FIXED_SIZES[type] ?? 8);
    return this.fixed(type);
  }

  /** Reads a fixed-size value that is already buffered. */
  private fixed(type: Exclude<GgufScalarType, "string">): number | bigint | boolean {
    const at = this.pos - this.bufferStart;
    const buffer = this.buffer;
    switch (type) {
      case "uint8":
        this.pos += 1;
        return buffer.readUInt8(at);
      case "int8":
        this.pos += 1;
        return buffer.readInt8(at);
      case "bool":
        this.pos += 1;
        return buffer.readUInt8(at) !== 0;
      case "uint16":
        this.pos += 2;
        return buffer.readUInt16LE(at);
      case "int16":
        this.pos += 2;
        return buffer.readInt16LE(at);
      case "uint32":
        this.pos += 4;
        return buffer.readUInt32LE(at);
      case "int32":
        this.pos += 4;
        return buffer.readInt32LE(at);
      case "float32":
        this.pos += 4;
        return buffer.readFloatLE(at);
      case "float64":
        this.pos += 8;
        return buffer.readDoubleLE(at);
      case "uint64":
        this.pos += 8;
        return safeNumber(buffer.readBigUInt64LE(at));
      case "int64":
        this.pos += 8;
        return safeNumber(buffer.readBigInt64LE(at));
      default:
        return type satisfies never;
    }
  }

  private async readArrayBody(itemType: GgufValueType, length: number, depth: number): Promise<GgufValue[] | GgufArraySummary> {
    const { fileName } = this;
    if (depth > GGUF_LIMITS.maxArrayDepth) {
      throw invalid(`${fileName} is damaged: ${this.context} nests arrays more than ${GGUF_LIMITS.maxArrayDepth} deep.`);
    }
    const itemBytes = minItemBytes(itemType);
    if (!Number.isSafeInteger(length) || length * itemBytes > this.remaining()) {
      throw invalid(
        `${fileName} is truncated or damaged: ${this.context} claims an array of ${formatCount(length)} items, ` +
          `more than the ${this.remaining()} bytes left in the file can hold.`,
      );
    }
    const keep = length <= this.keepArraysUpTo;
    const items: GgufValue[] = [];

    const fixedSize = FIXED_SIZES[itemType];
    if (fixedSize !== undefined && itemType !== "string" && itemType !== "array") {
      if (!keep) {
        this.pos += length * fixedSize; // bounded by the remaining-bytes check above
        return { type: "array", itemType, length };
      }
      // Read in buffer-sized runs so a long array needs only a few awaits.
      const perRun = Math.max(1, Math.floor(READ_CHUNK_BYTES / fixedSize));
      for (let done = 0; done < length;) {
        const run = Math.min(perRun, length - done);
        await this.need(run * fixedSize);
        for (let i = 0; i < run; i++) items.push(this.fixed(itemType));
        done += run;
      }
      return items;
    }

    if (itemType === "string") {
      // Skipped strings still have to be walked: each one's length says where the next starts.
      // The awaits are taken only when the buffer runs dry, not once per item.
      for (let i = 0; i < length; i++) {
        if (!this.has(8)) await this.need(8);
        const byteLength = this.stringLength();
        if (!keep) {
          this.pos += byteLength;
          continue;
        }
        if (!this.has(byteLength)) await this.need(byteLength);
        items.push(this.bufferedString(byteLength));
      }
    } else {
      for (let i = 0; i < length; i++) {
        await this.need(12);
        const innerType = this.valueType(this.u32());
        const innerLength = this.u64Number();
        const inner = await this.readArrayBody(innerType, innerLength, depth + 1);
        if (keep) items.push(inner);
      }
    }
    return keep ? items : { type: "array", itemType, length };
  }

  /** Reads and checks a string's length prefix, which must be buffered. */
  private stringLength(): number {
    const length = this.u64Number();
    if (length > GGUF_LIMITS.maxStringBytes) {
      throw invalid(
        `${this.fileName} is damaged: ${this.context} claims a string of ${formatCount(length)} bytes, more than a GGUF header string may have.`,
      );
    }
    if (length > this.remaining()) {
      throw invalid(
        `${this.fileName} is truncated or damaged: ${this.context} claims a string of ${length} bytes, ` +
          `but only ${this.remaining()} bytes of the file remain.`,
      );
    }
    return length;
  }

  private async readString(): Promise<string> {
    await this.need(8);
    const length = this.stringLength();
    await this.need(length);
    return this.bufferedString(length);
  }

  /** Decodes the next `length` bytes, which must be buffered, as UTF-8. */
  private bufferedString(length: number): string {
    const at = this.pos - this.bufferStart;
    this.pos += length;
    return this.buffer.toString("utf8", at, at + length);
  }

  // ---- buffered reading ---------------------------------------------------------------------

  private remaining(): number {
    return this.fileSize - this.pos;
  }

  /** Whether the next `length` bytes are buffered. */
  private has(length: number): boolean {
    return this.pos >= this.bufferStart && this.pos + length <= this.bufferEnd;
  }

  /** Makes sure the next `length` bytes are buffered; throws "truncated" if the file ends first. */
  private async need(length: number): Promise<void> {
    if (this.has(length)) return;
    if (this.pos + length > this.fileSize) throw this.truncatedHeader();
    const size = Math.min(Math.max(length, READ_CHUNK_BYTES), this.fileSize - this.pos);
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.file.read(this.buffer, filled, size - filled, this.pos + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.bufferStart = this.pos;
    this.bufferEnd = this.pos + filled;
    // The file shrank between stat and read.
    if (filled < length) throw this.truncatedHeader();
  }

  private truncatedHeader(): QuantaError {
    return invalid(`${this.fileName} is truncated: the file ends in the middle of its header (while reading ${this.context}).`);
  }

  private u32(): number {
    const value = this.buffer.readUInt32LE(this.pos - this.bufferStart);
    this.pos += 4;
    return value;
  }

  /** A uint64 as a number; values past 2^53 come back as Infinity so every bound check fails. */
  private u64Number(): number {
    const at = this.pos - this.bufferStart;
    const low = this.buffer.readUInt32LE(at);
    const high = this.buffer.readUInt32LE(at + 4);
    this.pos += 8;
    return high >= 0x200000 ? Number.POSITIVE_INFINITY : high * 0x1_0000_0000 + low;
  }
}

function safeNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** A name from the file, quoted and cut short: it is untrusted and may be megabytes long. */
function quote(name: string): string {
  const short = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  return JSON.stringify(short);
}

function formatCount(value: number): string {
  return Number.isFinite(value) ? String(value) : "more than 2^53";
}

function describeType(info: GgufValueTypeInfo | undefined): string {
  if (info === undefined) return "missing value";
  return info.type === "array" ? `array of ${info.itemType ?? "unknown"}` : info.type;
}

// ---------------------------------------------------------------------------------------------
// Description

export interface GgufDescription {
  /** general.architecture, e.g. "llama"; null if absent. */
  architecture: string | null;
  /** general.name, else (or when it only repeats the architecture) the file name without ".gguf". */
  name: string;
  /** llama.cpp's file type name (general.file_type), e.g. "Q4_K_M"; else the tensor type holding most bytes. */
  fileType: string;
  parameterCount: number;
  /** Bytes of all tensor data; null when a tensor's type, and so its size, is unknown. */
  tensorBytes: number | null;
  contextLength: number | null;
  layers: number | null;
  embeddingLength: number | null;
  vocabSize: number | null;
  hasChatTemplate: boolean;
  /** 8 × tensor bytes / parameters; 0 for a file without tensors; null when tensorBytes is. */
  bitsPerWeight: number | null;
  /** Bytes per known tensor type. */
  bytesByType: Partial<Record<GgufTensorType, number>>;
  /** Type ids of tensors whose type this table does not know, each once, ascending. */
  unknownTensorTypes: number[];
}

/** Summarizes a header for the model library. `fileName` may be a bare name or a path. */
export function describeGguf(header: GgufHeader, fileName: string): GgufDescription {
  const { metadata } = header;
  const architecture = stringValue(metadata["general.architecture"]);
  const archKey = (suffix: string): number | null => (architecture === null ? null : countValue(metadata[`${architecture}.${suffix}`]));

  let parameterCount = 0;
  let knownBytes = 0;
  const bytesByType: Partial<Record<GgufTensorType, number>> = {};
  const unknownTensorTypes = new Set<number>();
  for (const tensor of header.tensors) {
    parameterCount += tensor.elementCount;
    if (tensor.type === null || tensor.byteSize === null) {
      unknownTensorTypes.add(tensor.typeId);
      continue;
    }
    knownBytes += tensor.byteSize;
    bytesByType[tensor.type] = (bytesByType[tensor.type] ?? 0) + tensor.byteSize;
  }
  const tensorBytes = unknownTensorTypes.size === 0 ? knownBytes : null;

  const fileTypeId = countValue(metadata["general.file_type"]);
  const fileTypeName = fileTypeId === null ? undefined : LLAMA_FILE_TYPES.get(fileTypeId);
  const fileType = fileTypeName ?? dominantType(bytesByType) ?? "unknown";

  const chatTemplate = metadata["tokenizer.chat_template"];
  const name = stringValue(metadata["general.name"]);

  return {
    architecture,
    // general.name is often only the architecture ("llama"), which names no model: the file name says more.
    name:
      name !== null && name.trim() !== "" && name.trim().toLowerCase() !== (architecture ?? "").toLowerCase()
        ? name
        : basename(fileName).replace(/\.gguf$/i, ""),
    fileType,
    parameterCount,
    tensorBytes,
    contextLength: archKey("context_length"),
    layers: archKey("block_count"),
    embeddingLength: archKey("embedding_length"),
    vocabSize: ggufArrayLength(metadata["tokenizer.ggml.tokens"]) ?? archKey("vocab_size"),
    hasChatTemplate: typeof chatTemplate === "string" && chatTemplate.trim() !== "",
    bitsPerWeight: tensorBytes === null ? null : parameterCount === 0 ? 0 : (8 * tensorBytes) / parameterCount,
    bytesByType,
    unknownTensorTypes: [...unknownTensorTypes].sort((a, b) => a - b),
  };
}

function dominantType(bytesByType: Partial<Record<GgufTensorType, number>>): GgufTensorType | undefined {
  let best: GgufTensorType | undefined;
  let bestBytes = -1;
  for (const [type, bytes] of Object.entries(bytesByType) as Array<[GgufTensorType, number]>) {
    if (bytes > bestBytes) {
      best = type;
      bestBytes = bytes;
    }
  }
  return best;
}

function stringValue(value: GgufValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

/** A non-negative integer metadata value (any integer width), or null. */
function countValue(value: GgufValue | undefined): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : null;
  return null; // bigints are past 2^53: not a count anything real has
}
