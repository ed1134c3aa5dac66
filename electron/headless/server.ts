// `quanta serve`: the built renderer over HTTP and the renderer contract over a WebSocket,
// on 127.0.0.1 by default. Every WebSocket must carry the random token printed at start-up.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { createCore, type QuantaCore } from "../core/app-core.js";
import { forkEngine } from "../core/engine-client/engine-process.js";
import { responseHeaders } from "../common/response-headers.js";
import { mimeTypeFor, resolveAppPath } from "../common-node/protocol-path.js";

export interface HeadlessOptions {
  home: string;
  version: string;
  rendererDir: string;
  engineEntry: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); a fresh random one otherwise. */
  token?: string;
  core?: Partial<Pick<Parameters<typeof createCore>[0], "sampling" | "contextSize">>;
}

export interface HeadlessServer {
  url: string;
  port: number;
  token: string;
  core: QuantaCore;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function serveStatic(rendererDir: string, request: http.IncomingMessage, response: http.ServerResponse) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { ...responseHeaders(), Allow: "GET, HEAD" }).end();
    return;
  }
  const file = resolveAppPath(rendererDir, request.url ?? "/");
  if (!file) {
    response.writeHead(404, responseHeaders("text/plain; charset=utf-8")).end("Not found");
    return;
  }
  try {
    const body = await fs.readFile(file);
    response.writeHead(200, responseHeaders(mimeTypeFor(file)));
    response.end(request.method === "HEAD" ? undefined : body);
  } catch {
    response.writeHead(404, responseHeaders("text/plain; charset=utf-8")).end("Not found");
  }
}

/** A refusal written straight to an upgrading socket, with the same headers as every response. */
function rawResponseHead(status: number, reason: string): string {
  const headers = { ...responseHeaders(), Connection: "close", "Content-Length": "0" };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${reason}\r\n${lines.join("\r\n")}\r\n\r\n`;
}

function attachSocket(core: QuantaCore, socket: WebSocket): void {
  const listeners: ((data: unknown) => void)[] = [];
  socket.on("message", (raw, isBinary) => {
    if (isBinary) return socket.close(1003, "text messages only");
    let message: unknown;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return socket.close(1007, "messages must be JSON");
    }
    for (const listener of listeners) listener(message);
  });
  core.connect({
    post: (data) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(data));
    },
    on: (listener) => listeners.push(listener),
    onClose: (listener) => socket.once("close", listener),
  });
}

export async function startHeadless(options: HeadlessOptions): Promise<HeadlessServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? randomBytes(24).toString("base64url");
  const core = await createCore({
    shell: "headless",
    home: options.home,
    version: options.version,
    spawnEngine: forkEngine(options.engineEntry),
    ...options.core,
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const server = http.createServer((request, response) => {
    serveStatic(options.rendererDir, request, response).catch(() => response.destroy());
  });
  server.on("upgrade", (request, socket, head) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const origin = request.headers.origin;
    const sameOrigin = origin === undefined || origin === `http://${request.headers.host ?? ""}`;
    if (url.pathname !== "/rpc" || !sameToken(url.searchParams.get("token"), token) || !sameOrigin) {
      socket.end(rawResponseHead(401, "Unauthorized"));
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => attachSocket(core, ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    core,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.dispose();
    },
  };
}
