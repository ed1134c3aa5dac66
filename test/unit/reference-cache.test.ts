// The lab's cache of reference distributions on real files: an entry is used only when its
// record and bytes agree; a damaged one is found and deleted; a stopped run's file never passes
// for complete; the oldest use goes first at the limit; a folder that cannot be written, or an
// entry larger than the limit, leaves the run uncached with the reason.

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReferenceCache } from "../../electron/core/lab/reference-cache.js";

let folder: string;

beforeEach(async () => {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), "quanta-reference-cache-"));
});

afterEach(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

const quality = { perplexity: 12.5, tokens: 1000, chunks: 3, scoredTokens: 381 };

/** Writes what the engine writes at the slot: the distribution file, then the entry is committed. */
async function store(cache: ReferenceCache, key: string, bytes: number, fill = 7): Promise<string | null> {
  const slot = await cache.slot(key);
  if (!slot.cached) throw new Error(slot.reason);
  await fs.writeFile(slot.file, Buffer.alloc(bytes, fill));
  return cache.commit(key, quality);
}

describe("the reference cache", () => {
  it("names an entry by file, text and context, and gives it back with its record", async () => {
    const cache = new ReferenceCache(path.join(folder, "cache"), 1 << 20);
    const key = ReferenceCache.key({ fileKey: "100:5:a.gguf", text: "some text", contextSize: 256 });
    expect(ReferenceCache.key({ fileKey: "100:5:a.gguf", text: "some text", contextSize: 256 })).toBe(key);
    expect(ReferenceCache.key({ fileKey: "100:6:a.gguf", text: "some text", contextSize: 256 })).not.toBe(key);
    expect(ReferenceCache.key({ fileKey: "100:5:a.gguf", text: "other text", contextSize: 256 })).not.toBe(key);
    expect(ReferenceCache.key({ fileKey: "100:5:a.gguf", text: "some text", contextSize: 512 })).not.toBe(key);

    expect(await cache.take(key)).toBeNull();
    expect(await store(cache, key, 1000)).toBeNull();
    const hit = await cache.take(key);
    expect(hit?.record).toMatchObject({ ...quality, bytes: 1000 });
    expect((await fs.readFile(hit!.file)).length).toBe(1000);
    expect(await cache.usage()).toEqual({ bytes: 1000, entries: 1, limitBytes: 1 << 20 });
  });

  it("finds a damaged file, deletes it, and so has it computed again", async () => {
    const cache = new ReferenceCache(path.join(folder, "cache"), 1 << 20);
    const key = ReferenceCache.key({ fileKey: "k", text: "t", contextSize: 128 });
    await store(cache, key, 4096);
    const file = (await cache.take(key))!.file;
    // One byte changed in the middle, the size kept: only the digest can tell.
    const handle = await fs.open(file, "r+");
    await handle.write(Buffer.from([0]), 0, 1, 2000);
    await handle.close();
    expect(await cache.take(key)).toBeNull();
    await expect(fs.stat(file)).rejects.toThrow();
    expect((await cache.usage()).entries).toBe(0);
    // Truncated: the same.
    await store(cache, key, 4096);
    await fs.truncate(file, 100);
    expect(await cache.take(key)).toBeNull();
  });

  it("never takes a file whose run stopped before its record was written", async () => {
    const cache = new ReferenceCache(path.join(folder, "cache"), 1 << 20);
    const key = ReferenceCache.key({ fileKey: "k", text: "t", contextSize: 128 });
    const slot = await cache.slot(key);
    if (!slot.cached) throw new Error(slot.reason);
    // The engine was ended mid-evaluation: a .part, or even the whole file but no record.
    await fs.writeFile(`${slot.file}.part`, Buffer.alloc(500));
    expect(await cache.take(key)).toBeNull();
    await fs.writeFile(slot.file, Buffer.alloc(500));
    expect(await cache.take(key)).toBeNull();
    expect((await cache.usage()).entries).toBe(0);
    await cache.remove(key);
    expect(await fs.readdir(path.join(folder, "cache"))).toEqual([]);
  });

  it("keeps to its limit, oldest use out first", async () => {
    const cache = new ReferenceCache(path.join(folder, "cache"), 2500);
    const keys = ["a", "b", "c"].map((name) => ReferenceCache.key({ fileKey: name, text: "t", contextSize: 128 }));
    const [a, b, c] = keys as [string, string, string];
    await store(cache, a, 1000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store(cache, b, 1000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await cache.take(a)).not.toBeNull(); // a is now the most recently used
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store(cache, c, 1000);
    expect(await cache.take(b)).toBeNull();
    expect(await cache.take(a)).not.toBeNull();
    expect(await cache.take(c)).not.toBeNull();
    expect((await cache.usage()).bytes).toBe(2000);
    await cache.clear();
    expect(await cache.usage()).toEqual({ bytes: 0, entries: 0, limitBytes: 2500 });
  });

  it("does not keep an entry larger than its limit, and says why", async () => {
    const cache = new ReferenceCache(path.join(folder, "cache"), 100);
    const key = ReferenceCache.key({ fileKey: "k", text: "t", contextSize: 128 });
    expect(await store(cache, key, 1000)).toMatch(/larger than the cache's limit/);
    expect(await cache.take(key)).toBeNull();
    expect(await fs.readdir(path.join(folder, "cache"))).toEqual([]);
  });

  it("gives no slot in a folder that cannot be written, and says why", async () => {
    // A file where the folder should be: mkdir and writes fail for every user, root included.
    const blocked = path.join(folder, "blocked");
    await fs.writeFile(blocked, "not a folder");
    const cache = new ReferenceCache(path.join(blocked, "cache"), 1 << 20);
    const slot = await cache.slot(ReferenceCache.key({ fileKey: "k", text: "t", contextSize: 128 }));
    expect(slot.cached).toBe(false);
    if (!slot.cached) expect(slot.reason).toMatch(/cannot be written \(ENOTDIR\)/);
    expect(await cache.usage()).toMatchObject({ bytes: 0, entries: 0 });
  });
});
