// Server-sent events: one `data:` line per JSON chunk (OpenAI), or `event:` + `data:` pairs
// (Anthropic). Written with Nagle off so every chunk leaves at once.

import type http from "node:http";

export class EventStream {
  private started = false;

  constructor(
    private readonly response: http.ServerResponse,
    private readonly headers: http.OutgoingHttpHeaders = {},
  ) {}

  get open(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.response.socket?.setNoDelay(true);
    this.response.writeHead(200, {
      ...this.headers,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
      "X-Content-Type-Options": "nosniff",
    });
    this.response.flushHeaders();
  }

  send(data: unknown, event?: string): void {
    this.start();
    if (!this.open) return;
    this.response.write(`${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  /** OpenAI's end of stream. */
  done(): void {
    this.start();
    if (!this.open) return;
    this.response.end("data: [DONE]\n\n");
  }

  end(): void {
    if (this.open) this.response.end();
  }
}
