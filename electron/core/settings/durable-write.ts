// Writing bytes so that "saved" means on disk: every byte written (a full disk makes write()
// return short without an error), flushed, and a rename made durable by flushing its folder.

import { promises as fs } from "node:fs";
import path from "node:path";

/**
 * Writes all of `data` at the handle's position (the end, for a file opened to append).
 * A short write is continued; a write that makes no progress is an error, never a silent
 * truncation: on a full disk the first write can return part of the bytes without failing.
 */
export async function writeAll(handle: fs.FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    if (bytesWritten <= 0) throw Object.assign(new Error("no space left on device (nothing more could be written)"), { code: "ENOSPC" });
    offset += bytesWritten;
  }
}

/** Makes a rename or a new file in `folder` survive a power cut (a no-op where folders cannot be opened, as on Windows). */
export async function syncFolder(folder: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(folder, "r");
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on a folder (EINVAL, EISDIR on Windows): the rename stands.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "EBADF") throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `data` so that a crash or kill at any moment leaves either the old or
 * the new file whole: a temporary file beside it, written, flushed, renamed over, and the
 * folder flushed. On any failure the temporary file is removed and the old file is untouched.
 */
export async function replaceFileAtomic(file: string, data: Uint8Array, temp: string): Promise<void> {
  try {
    const handle = await fs.open(temp, "w");
    try {
      await writeAll(handle, data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(path.dirname(file));
}
