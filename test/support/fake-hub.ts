// A local HTTP server that speaks the part of the Hugging Face hub API Quanta uses (search,
// a repository's file tree with sizes and LFS SHA-256, resolve with a redirect to a "CDN"
// path), serves real bytes with Range support, and misbehaves on demand: drops a connection
// part-way, corrupts a byte, ignores Range, or sends slowly.

import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeHubFile {
  path: string;
  bytes: Buffer;
}

export interface FakeHubRequest {
  method: string;
  url: string;
  range: string | null;
  status: number;
}

export interface FakeHub {
  url: string;
  requests: FakeHubRequest[];
  addRepo(repo: string, files: FakeHubFile[], stats?: { downloads?: number; likes?: number }): void;
  /** The SHA-256 the hub publishes for a file. */
  sha256(repo: string, path: string): string;
  /** The next file response closes its connection after sending this many bytes of the body. */
  dropNextAfter(bytes: number): void;
  /** The next file response that covers this byte offset of the file sends it flipped. */
  corruptNextAt(offset: number): void;
  /** Answer Range requests with 200 and the whole file (as some servers do). */
  setIgnoreRange(ignore: boolean): void;
  /** Bytes per second for file bodies; null for full speed. */
  setThrottle(bytesPerSecond: number | null): void;
  /** Refuse every request with 503 (or stop refusing). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

interface RepoFile extends FakeHubFile {
  sha256: string;
}

const CHUNK = 16 * 1024;

export async function startFakeHub(): Promise<FakeHub> {
  const repos = new Map<string, { files: RepoFile[]; downloads: number; likes: number }>();
  const requests: FakeHubRequest[] = [];
  let dropAfter: number | null = null;
  let corruptAt: number | null = null;
  let ignoreRange = false;
  let throttle: number | null = null;
  let down = false;

  const json = (response: http.ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  };

  async function serveFile(request: http.IncomingMessage, response: http.ServerResponse, file: RepoFile): Promise<number> {
    const size = file.bytes.length;
    const range = ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        response.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return 416;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      "Content-Type": "application/octet-stream",
      "Content-Length": end - start + 1,
      "Accept-Ranges": "bytes",
      ETag: `"${file.sha256}"`,
    };
    if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    response.writeHead(status, headers);
    let body = Buffer.from(file.bytes.subarray(start, end + 1));
    if (corruptAt !== null && corruptAt >= start && corruptAt <= end) {
      const index = corruptAt - start;
      body[index] = (body[index] ?? 0) ^ 0xff;
      corruptAt = null;
    }
    const drop = dropAfter;
    dropAfter = null;
    if (drop !== null) body = body.subarray(0, Math.min(drop, body.length));
    for (let sent = 0; sent < body.length; sent += CHUNK) {
      if (response.destroyed) return status;
      const chunk = body.subarray(sent, sent + CHUNK);
      if (!response.write(chunk)) await new Promise((resolve) => response.once("drain", resolve));
      if (throttle !== null) await new Promise((resolve) => setTimeout(resolve, (chunk.length / throttle!) * 1000));
    }
    if (drop !== null) {
      // Let the bytes go out, then cut the connection the way a dropped network does.
      await new Promise((resolve) => setTimeout(resolve, 20));
      response.socket?.destroy();
      return status;
    }
    response.end();
    return status;
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<number> {
    const url = new URL(request.url ?? "/", "http://hub.invalid");
    if (down) {
      json(response, 503, { error: "down" });
      return 503;
    }
    if (url.pathname === "/api/models") {
      const search = (url.searchParams.get("search") ?? "").toLowerCase();
      const found = [...repos.entries()]
        .filter(([id]) => id.toLowerCase().includes(search))
        .map(([id, repo]) => ({
          _id: id,
          id,
          modelId: id,
          downloads: repo.downloads,
          likes: repo.likes,
          lastModified: "2026-01-01T00:00:00.000Z",
          tags: ["gguf"],
        }));
      json(response, 200, found);
      return 200;
    }
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
    if (tree?.[1]) {
      const repo = repos.get(decodeURIComponent(tree[1]));
      if (!repo) {
        json(response, 404, { error: "Repository not found" });
        return 404;
      }
      json(response, 200, [
        { type: "file", oid: "0".repeat(40), size: 120, path: "README.md" },
        ...repo.files.map((file) => ({
          type: "file",
          oid: createHash("sha1").update(file.bytes).digest("hex"),
          size: file.bytes.length,
          path: file.path,
          lfs: { oid: file.sha256, size: file.bytes.length, pointerSize: 134 },
        })),
      ]);
      return 200;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    if (resolve?.[1] && resolve[2]) {
      // The hub redirects LFS files to its CDN.
      response.writeHead(302, { Location: `/cdn/${resolve[1]}/${resolve[2]}` }).end();
      return 302;
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    if (cdn?.[1] && cdn[2]) {
      const filePath = cdn[2].split("/").map(decodeURIComponent).join("/");
      const file = repos.get(decodeURIComponent(cdn[1]))?.files.find((candidate) => candidate.path === filePath);
      if (file) return serveFile(request, response, file);
    }
    json(response, 404, { error: "Entry not found" });
    return 404;
  }

  const server = http.createServer((request, response) => {
    const entry: FakeHubRequest = {
      method: request.method ?? "GET",
      url: request.url ?? "/",
      range: request.headers.range ?? null,
      status: 0,
    };
    requests.push(entry);
    handle(request, response)
      .then((status) => (entry.status = status))
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addRepo(repo, files, stats = {}) {
      repos.set(repo, {
        files: files.map((file) => ({ ...file, sha256: createHash("sha256").update(file.bytes).digest("hex") })),
        downloads: stats.downloads ?? 100,
        likes: stats.likes ?? 5,
      });
    },
    sha256(repo, filePath) {
      const file = repos.get(repo)?.files.find((candidate) => candidate.path === filePath);
      if (!file) throw new Error(`no ${repo}/${filePath}`);
      return file.sha256;
    },
    dropNextAfter: (bytes) => void (dropAfter = bytes),
    corruptNextAt: (offset) => void (corruptAt = offset),
    setIgnoreRange: (ignore) => void (ignoreRange = ignore),
    setThrottle: (rate) => void (throttle = rate),
    setDown: (value) => void (down = value),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a file into the fake hub's form. */
export async function hubFile(path: string, from: string): Promise<FakeHubFile> {
  return { path, bytes: await fs.readFile(from) };
}
