// The renderer's only link to the core: one `api` object typed as the contract's CoreApi,
// a feed of CoreEvents, and the connection's state. Which transport carries them (WebSocket
// in headless mode, MessagePort in the desktop app) is decided here and nowhere else.
//
// Calls made while the connection is down fail at once with ConnectionLostError rather than
// waiting: the stores resynchronise from scratch whenever the connection (re)opens.

import { createBirpc } from "birpc";
import { QuantaError, type CoreApi, type CoreEvent, type RendererApi } from "./contract.js";
import { headlessToken, messagePortTransport, webSocketTransport, type Link, type Transport } from "./transport.js";

export * from "./contract.js";

export type ConnectionState =
  /** Before the first connection: the socket is opening, or the desktop port has not come yet. */
  | { kind: "connecting" }
  | { kind: "open" }
  /** The WebSocket closed; another attempt is scheduled (attempt counts from 1). */
  | { kind: "lost"; attempt: number; retryInMs: number };

/** A call that could not reach the core, or whose answer was lost with the connection. */
export class ConnectionLostError extends QuantaError {
  constructor() {
    super("internal", "The connection to Quanta was lost.");
    this.name = "ConnectionLostError";
  }
}

const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000] as const;
const MAX_RETRY_DELAY_MS = 10_000;

function chooseTransport(): Transport {
  const token = headlessToken();
  return token ? webSocketTransport(token) : messagePortTransport();
}

const transport = chooseTransport();
const eventListeners = new Set<(event: CoreEvent) => void>();
const connectionListeners = new Set<(state: ConnectionState) => void>();

let link: Link | null = null;
let isOpen = false;
let started = false;
let failedAttempts = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let connectionState: ConnectionState = { kind: "connecting" };
let receive: ((data: unknown) => void) | null = null;

function dispatch(event: CoreEvent): void {
  for (const listener of eventListeners) {
    try {
      listener(event);
    } catch (error) {
      console.error("quanta: an event listener failed", error);
    }
  }
}

function setConnectionState(state: ConnectionState): void {
  connectionState = state;
  for (const listener of connectionListeners) listener(state);
}

const rendererApi: RendererApi = { event: dispatch };

const rpc = createBirpc<CoreApi, RendererApi>(rendererApi, {
  post(data: unknown) {
    if (!link || !isOpen) throw new ConnectionLostError();
    link.send(transport.serialize(data));
  },
  on(listener) {
    receive = listener;
  },
  // Decoding happens in onLinkMessage, so a malformed message is dropped there instead of
  // surfacing as an unhandled rejection inside birpc.
  eventNames: [],
  // Model loads and long generations can take minutes; no call has a deadline.
  timeout: -1,
});

/** The core's methods. Arguments must be plain data (use $state.snapshot on store state). */
export const api: CoreApi = rpc;

function onLinkMessage(data: unknown): void {
  let message: unknown;
  try {
    message = transport.deserialize(data);
  } catch (error) {
    console.error("quanta: dropped a message that could not be decoded", error);
    return;
  }
  receive?.(message);
}

let attempts = 0;

function connect(): void {
  retryTimer = null;
  const attempt = ++attempts;
  const current = () => attempt === attempts;
  link = transport.connect({
    onOpen() {
      if (!current()) return;
      isOpen = true;
      failedAttempts = 0;
      setConnectionState({ kind: "open" });
    },
    onMessage(data) {
      if (current()) onLinkMessage(data);
    },
    onClose() {
      if (!current()) return;
      link = null;
      isOpen = false;
      // The rejections reach each pending call's own caller; nothing here awaits them.
      void rpc.$rejectPendingCalls(({ reject }) => reject(new ConnectionLostError()));
      scheduleReconnect();
    },
  });
}

function scheduleReconnect(): void {
  const retryInMs = RETRY_DELAYS_MS[failedAttempts] ?? MAX_RETRY_DELAY_MS;
  failedAttempts += 1;
  setConnectionState({ kind: "lost", attempt: failedAttempts, retryInMs });
  retryTimer = setTimeout(connect, retryInMs);
}

/** Opens the connection. Call once, after the stores have subscribed. */
export function startConnection(): void {
  if (started) return;
  started = true;
  connect();
}

/** Skips the wait before the next reconnection attempt. */
export function reconnectNow(): void {
  if (!started || isOpen || link) return;
  if (retryTimer !== null) clearTimeout(retryTimer);
  connect();
}

/** How this page reaches the core; only for wording help text, never for behaviour. */
export const transportKind: Transport["kind"] = transport.kind;

/** Subscribes to the core's events; returns the unsubscribe function. */
export function onCoreEvent(listener: (event: CoreEvent) => void): () => void {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

/** Subscribes to the connection's state, starting with the current one. */
export function onConnectionChange(listener: (state: ConnectionState) => void): () => void {
  connectionListeners.add(listener);
  listener(connectionState);
  return () => connectionListeners.delete(listener);
}

export function isConnectionLost(error: unknown): error is ConnectionLostError {
  return error instanceof ConnectionLostError;
}
