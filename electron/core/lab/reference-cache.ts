// The reference's distributions kept on disk between comparisons: one entry per (reference
// file, text, context), so adding a variant or rerunning a comparison does not evaluate the
// reference again. Bounded in bytes, oldest use out first. An entry is the file the engine
// wrote (llama-perplexity's --kl-divergence-base layout) and, written last, a record with its
// size and SHA-256: a file without its record (a cancelled or crashed run) is never used,
// and one whose bytes no longer match is deleted and computed again.

import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** 2 GiB: a 152k-vocabulary reference over a 10 KB text is about 0.4 GB. */
export const DEFAULT_REFERENCE_CACHE_BYTES = 2 * 1024 ** 3;

const FORMAT = 1;

const recordSchema = z
  .object({
    format: z.literal(FORMAT),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    perplexity: z.number().positive(),
    tokens: z.number().int().min(0),
    chunks: z.number().int().min(0),
    scoredTokens: z.number().int().min(0),
    createdAt: z.string(),
    usedAt: z.string(),
  })
  .strict();

export type ReferenceRecord = z.infer<typeof recordSchema>;

/** What identifies a reference distribution: the file (as the thread memory knows it), the text, the context. */
export interface ReferenceIdentity {
  /** modelFileKey(size, mtime, name) of the reference file. */
  fileKey: string;
  text: string;
  contextSize: number;
}

export interface CachedReference {
  file: string;
  record: ReferenceRecord;
}

/** Where a reference is written this time, and, when not into the cache, why. */
export type ReferenceSlot = { file: string; cached: true } | { file: null; cached: false; reason: string };

export interface ReferenceCacheUsage {
  bytes: number;
  entries: number;
  limitBytes: number;
}

export class ReferenceCache {
  constructor(
    readonly folder: string,
    readonly limitBytes: number = DEFAULT_REFERENCE_CACHE_BYTES,
  ) {}

  /** The entry's name: a hash of its identity, so no user text reaches a file name. */
  static key(identity: ReferenceIdentity): string {
    const text = createHash("sha256").update(identity.text).digest("hex");
    return createHash("sha256")
      .update(JSON.stringify([FORMAT, identity.fileKey, text, identity.contextSize]))
      .digest("hex")
      .slice(0, 40);
  }

  private dataFile(key: string): string {
    return path.join(this.folder, `${key}.logits`);
  }

  private recordFile(key: string): string {
    return path.join(this.folder, `${key}.json`);
  }

  /** A complete entry whose bytes match its record, marked as used now; null if none. A damaged one is deleted. */
  async take(key: string): Promise<CachedReference | null> {
    const record = await this.readRecord(key);
    if (!record) return null;
    const file = this.dataFile(key);
    const intact = await fileDigest(file)
      .then((digest) => digest.bytes === record.bytes && digest.sha256 === record.sha256)
      .catch(() => false);
    if (!intact) {
      await this.remove(key);
      return null;
    }
    const used = { ...record, usedAt: new Date().toISOString() };
    await writeAtomically(this.recordFile(key), JSON.stringify(used)).catch(() => undefined);
    return { file, record: used };
  }

  /** Where the engine writes the reference for `key`: in the cache when its folder can be written, else nowhere. */
  async slot(key: string): Promise<ReferenceSlot> {
    try {
      await fs.mkdir(this.folder, { recursive: true });
      // Writable, not only present: a probe file proves it (permissions, read-only disks, a full disk).
      const probe = path.join(this.folder, `.probe-${process.pid}`);
      await fs.writeFile(probe, "ok");
      await fs.rm(probe, { force: true });
    } catch (error) {
      return {
        file: null,
        cached: false,
        reason: `the cache folder ${this.folder} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      };
    }
    await this.remove(key); // a stale or partial entry of the same name
    return { file: this.dataFile(key), cached: true };
  }

  /**
   * Records the entry the engine wrote at slot(key).file, then evicts the oldest entries
   * until the cache is under its limit. Returns null when kept, else why it was not.
   */
  async commit(
    key: string,
    quality: Omit<ReferenceRecord, "format" | "bytes" | "sha256" | "createdAt" | "usedAt">,
  ): Promise<string | null> {
    const file = this.dataFile(key);
    try {
      const digest = await fileDigest(file);
      if (digest.bytes > this.limitBytes) {
        await this.remove(key);
        return `the reference's distribution (${formatBytes(digest.bytes)}) is larger than the cache's limit (${formatBytes(this.limitBytes)})`;
      }
      const now = new Date().toISOString();
      const record: ReferenceRecord = {
        format: FORMAT,
        ...quality,
        bytes: digest.bytes,
        sha256: digest.sha256,
        createdAt: now,
        usedAt: now,
      };
      await writeAtomically(this.recordFile(key), JSON.stringify(record));
      await this.evict(key);
      return null;
    } catch (error) {
      await this.remove(key);
      return `it could not be recorded (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
  }

  /** Deletes an entry's files, a partial one included. */
  async remove(key: string): Promise<void> {
    await fs.rm(this.recordFile(key), { force: true }).catch(() => undefined);
    await fs.rm(this.dataFile(key), { force: true }).catch(() => undefined);
    await fs.rm(`${this.dataFile(key)}.part`, { force: true }).catch(() => undefined);
  }

  /** Bytes held by complete entries (what the Lab shows). */
  async usage(): Promise<ReferenceCacheUsage> {
    const entries = await this.entries();
    return { bytes: entries.reduce((sum, entry) => sum + entry.record.bytes, 0), entries: entries.length, limitBytes: this.limitBytes };
  }

  /** Deletes every entry, and any partial file a stopped run left. */
  async clear(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.folder);
    } catch {
      return;
    }
    await Promise.all(
      names
        .filter((name) => /^[0-9a-f]{40}\.(logits|json|logits\.part)$/.test(name))
        .map((name) => fs.rm(path.join(this.folder, name), { force: true })),
    );
  }

  /** Oldest use out first until the complete entries fit the limit; files without a record go too. */
  private async evict(keep: string): Promise<void> {
    const entries = (await this.entries()).sort((a, b) => a.record.usedAt.localeCompare(b.record.usedAt));
    let total = entries.reduce((sum, entry) => sum + entry.record.bytes, 0);
    for (const entry of entries) {
      if (total <= this.limitBytes) break;
      if (entry.key === keep) continue;
      await this.remove(entry.key);
      total -= entry.record.bytes;
    }
  }

  private async entries(): Promise<Array<{ key: string; record: ReferenceRecord }>> {
    let names: string[];
    try {
      names = await fs.readdir(this.folder);
    } catch {
      return [];
    }
    const keys = names.filter((name) => /^[0-9a-f]{40}\.json$/.test(name)).map((name) => name.slice(0, 40));
    const found: Array<{ key: string; record: ReferenceRecord }> = [];
    for (const key of keys) {
      const record = await this.readRecord(key);
      if (record) found.push({ key, record });
    }
    return found;
  }

  private async readRecord(key: string): Promise<ReferenceRecord | null> {
    try {
      return recordSchema.parse(JSON.parse(await fs.readFile(this.recordFile(key), "utf8")));
    } catch {
      return null;
    }
  }
}

async function fileDigest(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const part = `${file}.${process.pid}.tmp`;
  await fs.writeFile(part, text);
  await fs.rename(part, file);
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
