// A message channel that carries birpc traffic between the core and one renderer, whatever
// the transport (Electron MessagePort in the desktop app, WebSocket in headless mode).

import { QuantaError } from "../contract/errors.js";
import { checkRpcEnvelope, decodeRpcMessage, encodeRpcMessage } from "../contract/wire.js";

export interface RpcChannel {
  /** Sends one encoded message (already run through the contract's encodeRpcMessage). */
  post(data: unknown): void;
  /** Registers the receiver of incoming messages (still encoded). */
  on(listener: (data: unknown) => void): void;
  /** Called once when the channel closes, so the core can forget the renderer. */
  onClose(listener: () => void): void;
  /** Ends this one channel after a protocol violation (the WebSocket closes with 1008). */
  close?(reason: string): void;
}

/**
 * Registers birpc's receiver on a channel behind the envelope check: a malformed request
 * with a usable id is answered with invalid_request; anything else malformed closes this
 * channel. Whatever still goes wrong inside birpc's async handler closes the channel too,
 * instead of surfacing as an unhandled rejection that would end the core.
 */
export function receiveCheckedRpc(channel: RpcChannel, listener: (message: unknown) => unknown): void {
  const refuse = (reason: string) => {
    if (channel.close) channel.close(reason);
  };
  channel.on((data) => {
    const checked = checkRpcEnvelope(data);
    if (!checked.ok) {
      if (checked.answerId === null) {
        refuse(checked.reason);
        return;
      }
      const error = new QuantaError("invalid_request", `Invalid call: ${checked.reason}.`);
      try {
        channel.post(encodeRpcMessage({ t: "s", i: checked.answerId, e: error }));
      } catch {
        refuse("the answer could not be sent");
      }
      return;
    }
    let handled: unknown;
    try {
      handled = listener(decodeRpcMessage(checked.message));
    } catch (error) {
      refuse(`the message could not be handled (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    if (handled instanceof Promise) {
      handled.catch((error: unknown) =>
        refuse(`the message could not be handled (${error instanceof Error ? error.message : String(error)})`),
      );
    }
  });
}
