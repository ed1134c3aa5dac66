// `quanta serve`: the built renderer over HTTP and the renderer contract over a WebSocket,
// on 127.0.0.1 by default. Every WebSocket must carry the random token printed at start-up.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { WebSocketServer, type WebSocket } from "ws";
import { createCore, type QuantaCore } from "../core/app-core.js";
import { forkEngine } from "../core/engine-client/engine-process.js";
import { responseHeaders } from "../common/response-headers.js";
import { mimeTypeFor, resolveAppPath } from "../common-node/protocol-path.js";
import { isAllowedHost, isAllowedOrigin, isLoopbackHost, isWildcardHost, serverNames, type ServerNames } from "../core/net/host-check.js";

export interface HeadlessOptions {
  home: string;
  version: string;
  rendererDir: string;
  engineEntry: string;
  host?: string;
  port?: number;
  /**
   * Serving beyond this machine sends the token over the network in plain HTTP; it takes
   * this explicit consent (`--allow-remote`), and a warning is printed.
   */
  allowRemote?: boolean;
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
  // A protocol error (a frame over the size limit, invalid UTF-8) is this connection's
  // alone: ws closes it with the matching code (1009, 1007). Without a listener, the
  // "error" event would end the process.
  socket.on("error", () => undefined);
  socket.on("message", (raw, isBinary) => {
    if (isBinary) {
      socket.close(1003, "text messages only");
      return;
    }
    let message: unknown;
    try {
      // binaryType stays ws's default ("nodebuffer"): a whole message arrives as one Buffer.
      message = JSON.parse((raw as Buffer).toString());
    } catch {
      socket.close(1007, "messages must be JSON");
      return;
    }
    for (const listener of listeners) listener(message);
  });
  core.connect({
    post: (data) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(data));
    },
    on: (listener) => listeners.push(listener),
    onClose: (listener) => socket.once("close", listener),
    close: (reason) => socket.close(1008, reason.slice(0, 120)),
  });
}

/** Thrown before anything starts when a non-loopback bind lacks `allowRemote`. */
export class RemoteBindRefused extends Error {}

/** The machine's own interface addresses: the names a wildcard bind is reached by. */
function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}

function forbid(response: http.ServerResponse): void {
  response.writeHead(403, { ...responseHeaders("text/plain; charset=utf-8"), Connection: "close" }).end("Forbidden");
}

export async function startHeadless(options: HeadlessOptions): Promise<HeadlessServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new RemoteBindRefused(
      `Serving on ${host} would send the access token to the network in plain HTTP. Pass --allow-remote to do it anyway, or leave --host out to serve this machine only.`,
    );
  }
  const token = options.token ?? randomBytes(24).toString("base64url");
  const core = await createCore({
    shell: "headless",
    home: options.home,
    version: options.version,
    spawnEngine: forkEngine(options.engineEntry),
    ...options.core,
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  sockets.on("error", () => undefined);
  // Known once listening (port 0 picks one); until then nothing is answered.
  let names: ServerNames | null = null;
  const server = http.createServer((request, response) => {
    // DNS rebinding: a page whose own name now points here sends its name as Host.
    if (!names || !isAllowedHost(request.headers.host, names)) {
      forbid(response);
      return;
    }
    serveStatic(options.rendererDir, request, response).catch(() => response.destroy());
  });
  server.on("upgrade", (request, socket, head) => {
    socket.on("error", () => socket.destroy());
    if (!names || !isAllowedHost(request.headers.host, names) || !isAllowedOrigin(request.headers.origin, names)) {
      socket.end(rawResponseHead(403, "Forbidden"));
      return;
    }
    // A request target that is not a URL ("http://[") must not throw out of this listener.
    const url = URL.canParse(request.url ?? "/", "http://localhost") ? new URL(request.url ?? "/", "http://localhost") : null;
    if (url?.pathname !== "/rpc" || !sameToken(url.searchParams.get("token"), token)) {
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
  names = serverNames(host, port, isWildcardHost(host) ? interfaceAddresses() : []);
  // A wildcard bind is opened from this machine by its loopback name.
  const urlHost = isWildcardHost(host) ? (host.includes(":") ? "::1" : "127.0.0.1") : host;
  const shownHost = urlHost.includes(":") ? `[${urlHost}]` : urlHost;

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
