// The two ways the renderer reaches the core, behind one small interface: a WebSocket under
// `quanta serve` (JSON text), or a MessagePort that Electron's preload hands over (structured
// clones). Each link carries already-encoded birpc messages; the codec is chosen with it.

import { decodeRpcMessage, decodeRpcText, encodeRpcMessage, encodeRpcText } from "./contract.js";

/** Called asynchronously, never from inside Transport.connect. */
export interface LinkHandlers {
  onOpen(): void;
  onMessage(data: unknown): void;
  /** The link is gone for good; a new link must be made to talk again. */
  onClose(): void;
}

export interface Link {
  send(data: unknown): void;
  close(): void;
}

export interface Transport {
  kind: "websocket" | "port";
  serialize(message: unknown): unknown;
  deserialize(data: unknown): unknown;
  /** Starts one connection attempt. */
  connect(handlers: LinkHandlers): Link;
}

/** The message the preload posts to the page, with the MessagePort as its one transfer. */
export const PORT_MESSAGE = "quanta:port";

const TOKEN_KEY = "quanta:token";

/**
 * Headless mode's access token. The page is opened from the URL `quanta serve` printed; the
 * token is read from it once, kept in this tab's sessionStorage (a reload or a reconnect
 * still finds it) and taken out of the address bar, so it is not left in the history, in a
 * bookmark or in a screenshot. Null in the desktop app (no token in its address).
 */
export function headlessToken(): string | null {
  const address = new URL(location.href);
  const fromAddress = address.searchParams.get("token");
  if (fromAddress) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromAddress);
    } catch {
      // Storage refused (a strict privacy mode): the token lives in memory for this page only.
    }
    address.searchParams.delete("token");
    history.replaceState(history.state, "", `${address.pathname}${address.search}${address.hash}`);
    return fromAddress;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Headless mode: the page was opened from the URL `quanta serve` printed, token included. */
export function webSocketTransport(token: string): Transport {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/rpc?token=${encodeURIComponent(token)}`;
  return {
    kind: "websocket",
    serialize: encodeRpcText,
    deserialize: decodeRpcText,
    connect(handlers) {
      const socket = new WebSocket(url);
      let closed = false;
      const finish = () => {
        if (closed) return;
        closed = true;
        handlers.onClose();
      };
      socket.addEventListener("open", () => handlers.onOpen());
      socket.addEventListener("message", (event: MessageEvent<unknown>) => handlers.onMessage(event.data));
      // A refused or dropped socket fires "error" then "close"; report the loss once.
      socket.addEventListener("close", finish);
      socket.addEventListener("error", finish);
      return {
        send(data) {
          socket.send(data as string);
        },
        close() {
          closed = true;
          socket.close();
        },
      };
    },
  };
}

/**
 * Desktop mode: the preload posts "quanta:port" with a MessagePort. The listener is installed
 * as soon as this module is evaluated, before the page's first paint, so a port posted after
 * DOMContentLoaded is never missed. A later port (the core re-created the channel) replaces
 * the current one.
 */
export function messagePortTransport(): Transport {
  let arrived: MessagePort | null = null;
  let attach: ((port: MessagePort) => void) | null = null;

  window.addEventListener("message", (event: MessageEvent<unknown>) => {
    // Only this window's own scripts (the preload) may hand over the port.
    if (event.source !== window || event.data !== PORT_MESSAGE) return;
    const port = event.ports[0];
    if (!port) return;
    if (attach) attach(port);
    else arrived = port;
  });

  return {
    kind: "port",
    serialize: encodeRpcMessage,
    deserialize: decodeRpcMessage,
    connect(handlers) {
      let current: MessagePort | null = null;
      attach = (port) => {
        current?.close();
        current = port;
        port.onmessage = (event: MessageEvent<unknown>) => handlers.onMessage(event.data);
        port.onmessageerror = () => console.error("quanta: a message from the core could not be read");
        handlers.onOpen();
      };
      if (arrived) {
        const port = arrived;
        arrived = null;
        // Handlers never fire before connect() has returned its link.
        queueMicrotask(() => attach?.(port));
      }
      return {
        send(data) {
          if (!current) throw new Error("the core's port has not arrived yet");
          current.postMessage(data);
        },
        close() {
          attach = null;
          current?.close();
          current = null;
        },
      };
    },
  };
}
