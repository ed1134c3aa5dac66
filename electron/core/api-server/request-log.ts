// The live request log of the Server view: the last requests in memory (never written to
// disk: prompts are the user's), each reported when it starts and when it ends.

import { newId } from "../../common/ids.js";
import type { ApiRequestLogEntry } from "../../contract/types.js";

export const MAX_LOG_ENTRIES = 200;

export class RequestLog {
  private readonly entries: ApiRequestLogEntry[] = [];

  constructor(private readonly onEntry: (entry: ApiRequestLogEntry) => void) {}

  list(): ApiRequestLogEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  start(request: { method: string; endpoint: string; queuedBehind: number }): ApiRequestLogEntry {
    const entry: ApiRequestLogEntry = {
      id: newId(),
      at: new Date().toISOString(),
      method: request.method,
      endpoint: request.endpoint,
      model: null,
      stream: false,
      status: null,
      promptTokens: null,
      cachedTokens: null,
      completionTokens: null,
      tokensPerSecond: null,
      timeToFirstTokenMs: null,
      durationMs: null,
      queuedBehind: request.queuedBehind,
      finishReason: null,
      error: null,
    };
    this.entries.push(entry);
    if (this.entries.length > MAX_LOG_ENTRIES) this.entries.splice(0, this.entries.length - MAX_LOG_ENTRIES);
    this.onEntry({ ...entry });
    return entry;
  }

  finish(entry: ApiRequestLogEntry, outcome: Partial<ApiRequestLogEntry> & { status: number }, startedAt: number): void {
    Object.assign(entry, outcome, { durationMs: Math.round(performance.now() - startedAt) });
    this.onEntry({ ...entry });
  }
}
