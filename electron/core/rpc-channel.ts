// A message channel that carries birpc traffic between the core and one renderer, whatever
// the transport (Electron MessagePort in the desktop app, WebSocket in headless mode).

export interface RpcChannel {
  /** Sends one encoded message (already run through the contract's encodeRpcMessage). */
  post(data: unknown): void;
  /** Registers the receiver of incoming messages (still encoded). */
  on(listener: (data: unknown) => void): void;
  /** Called once when the channel closes, so the core can forget the renderer. */
  onClose(listener: () => void): void;
}
