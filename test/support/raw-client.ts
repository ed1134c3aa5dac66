// What an attacker or a broken client sends to `quanta serve`: raw HTTP request targets and
// headers over a TCP socket (nothing normalized by a client library), and raw WebSocket
// frames (forged headers on the upgrade, invalid UTF-8, oversized frames, malformed RPC).

import net from "node:net";
import WebSocket from "ws";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one request exactly as written (request line and headers, CRLF added) and reads the
 * response until the server closes or the body is complete. The status is 0 when the
 * server closed without answering.
 */
export function rawHttp(port: number, requestLines: string[], host = "127.0.0.1"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${requestLines[0] ?? ""} within 10 s`));
    }, 10_000);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: rest.join("\r\n\r\n") });
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      // A switched protocol has no HTTP body: the head is the whole answer.
      if (/^HTTP\/1\.1 101 /.test(text)) return socket.destroy();
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && text.length - end - 4 >= Number(length[1])) socket.end();
    });
    socket.on("close", finish);
    socket.on("error", () => undefined);
    socket.write(`${requestLines.join("\r\n")}\r\n\r\n`);
  });
}

/** The headers of a WebSocket upgrade, for raw upgrade requests. */
export function upgradeHeaders(host: string, extra: string[] = []): string[] {
  return [
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...extra,
  ];
}

export interface RpcSocket {
  socket: WebSocket;
  /** Sends a text frame; a Buffer goes out as a text frame unchanged (even if not UTF-8). */
  sendText(data: string | Buffer): void;
  /** Sends a request and waits for the answer with its id, or for the connection to close. */
  call(id: string, method: string, args: unknown): Promise<RpcOutcome>;
  /** The same with the request written by hand (deep nesting JSON.stringify cannot write). */
  callText(id: string, text: string): Promise<RpcOutcome>;
  /** Resolves with the close code once the server has closed the connection. */
  closed: Promise<number>;
  close(): void;
}

export type RpcOutcome =
  { kind: "result"; value: unknown } | { kind: "error"; code: string; message: string } | { kind: "closed"; code: number };

/** Opens the RPC WebSocket of a served app (its printed URL carries the token). */
export function openRpcSocket(appUrl: string, timeoutMs = 10_000): Promise<RpcSocket> {
  const url = new URL(appUrl);
  const socket = new WebSocket(`ws://${url.host}/rpc?token=${encodeURIComponent(url.searchParams.get("token") ?? "")}`, {
    origin: `http://${url.host}`,
  });
  const waiting = new Map<string, (outcome: RpcOutcome) => void>();
  let closeCode: number | null = null;
  const closed = new Promise<number>((resolve) =>
    socket.on("close", (code) => {
      closeCode = code;
      for (const settle of waiting.values()) settle({ kind: "closed", code });
      waiting.clear();
      resolve(code);
    }),
  );
  socket.on("error", () => undefined);
  socket.on("message", (data) => {
    let message: { t?: unknown; i?: unknown; r?: unknown; e?: { code?: unknown; message?: unknown } };
    try {
      // binaryType stays ws's default ("nodebuffer"): a whole message arrives as one Buffer.
      message = JSON.parse((data as Buffer).toString()) as typeof message;
    } catch {
      return;
    }
    if (message.t !== "s" || typeof message.i !== "string") return;
    const settle = waiting.get(message.i);
    if (!settle) return;
    waiting.delete(message.i);
    settle(
      message.e !== undefined
        ? { kind: "error", code: String(message.e.code), message: String(message.e.message) }
        : { kind: "result", value: message.r },
    );
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the RPC WebSocket did not open")), timeoutMs);
    socket.once("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`the RPC WebSocket was refused with ${response.statusCode}`));
    });
    socket.once("open", () => {
      clearTimeout(timer);
      resolve({
        socket,
        sendText(data) {
          if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: false });
        },
        call: (id, method, args) => callText(id, JSON.stringify({ t: "q", i: id, m: method, a: args })),
        callText,
        closed,
        close: () => socket.close(),
      });
    });
  });

  function callText(id: string, text: string): Promise<RpcOutcome> {
    if (closeCode !== null) return Promise.resolve({ kind: "closed", code: closeCode });
    return new Promise<RpcOutcome>((settle) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        settle({ kind: "error", code: "no_answer", message: `no answer to ${text.slice(0, 60)} within ${timeoutMs} ms` });
      }, timeoutMs);
      waiting.set(id, (outcome) => {
        clearTimeout(timer);
        settle(outcome);
      });
      socket.send(text);
    });
  }
}
