// A real, tiny filesystem that fills up: a tmpfs of a few kilobytes mounted on a temporary
// folder (needs root and a kernel that allows it). Where it cannot be mounted, the reason is
// returned so a test can skip saying why.

import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { tempDir } from "./paths.js";

export interface SmallDisk {
  folder: string;
  /** Makes it bigger without losing what is on it (space returns). */
  grow(sizeBytes: number): void;
  remove(): Promise<void>;
}

export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk | { skip: string }> {
  if (process.platform !== "linux") return { skip: `a tmpfs needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root" };
  const folder = await tempDir("small-disk");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", folder], { stdio: "pipe" });
  } catch (error) {
    await fs.rm(folder, { recursive: true, force: true });
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
    return { skip: `mount -t tmpfs failed: ${detail}` };
  }
  return {
    folder,
    grow(size) {
      execFileSync("mount", ["-o", `remount,size=${size}`, folder], { stdio: "pipe" });
    },
    async remove() {
      try {
        execFileSync("umount", [folder], { stdio: "pipe" });
      } catch {
        execFileSync("umount", ["-l", folder], { stdio: "pipe" });
      }
      await fs.rm(folder, { recursive: true, force: true });
    },
  };
}

/** Fills what is left of a disk with one file, so the next write runs out of space part-way. */
export async function fillDisk(folder: string, leaveBytes: number): Promise<string> {
  const filler = `${folder}/filler`;
  const { bavail, bsize } = await fs.statfs(folder);
  const free = bavail * bsize;
  await fs.writeFile(filler, Buffer.alloc(Math.max(0, free - leaveBytes)));
  return filler;
}
