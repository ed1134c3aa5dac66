// Owns the one message shown in the alert region: the latest failed call or a hint about
// what to do first. Talks to nobody; the other stores report here, the alert component reads.
// A notice keeps a message key rather than translated text, so it follows a language switch.

import { isConnectionLost } from "../api/index.js";
import type { MessageKey } from "../i18n/en.js";

export type Notice =
  | { kind: "hint"; key: MessageKey }
  /** A failure the core (or the connection) described: worded by code and parameters (i18n/errors.ts). */
  | { kind: "error"; code: string; message: string | null; params?: unknown; key: MessageKey | null };

class NoticesStore {
  current = $state.raw<Notice | null>(null);

  hint(key: MessageKey): void {
    this.current = { kind: "hint", key };
  }

  /** Shows a failed call: anything thrown, described by its message. */
  report(error: unknown): void {
    console.error("quanta:", error);
    if (isConnectionLost(error)) {
      this.current = { kind: "error", code: error.code, message: null, key: "connection.lost" };
      return;
    }
    const { code, message, params } = (typeof error === "object" && error !== null ? error : {}) as {
      code?: unknown;
      message?: unknown;
      params?: unknown;
    };
    const text = typeof message === "string" && message.trim() !== "" ? message : null;
    this.current = {
      kind: "error",
      code: typeof code === "string" ? code : "internal",
      message: text,
      params,
      key: text === null && typeof code !== "string" ? "notice.unknown" : null,
    };
  }

  dismiss(): void {
    this.current = null;
  }
}

export const notices = new NoticesStore();
