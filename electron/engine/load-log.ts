// llama.cpp says why it refused a model only in its log ("unknown model architecture:
// 'xyzzy'", "key not found: llama.block_count"); node-llama-cpp's error says just "Failed to
// load model". This listens to the log while a load runs and keeps its last error line.

import { LlamaLogLevel, type Llama } from "node-llama-cpp";

/** How long to wait for log lines still on their way through node-llama-cpp's callback. */
const LOG_SETTLE_MS = 100;

const GENERIC_LINE = /failed to load model\s*$/;

/** llama.cpp prefixes lines with the function's name ("llama_model_load: error loading model: …"). */
function readable(line: string): string {
  return line
    .trim()
    .replace(/^(\w+: )+/, "")
    .replace(/^error loading model: /, "")
    .replace(/^error loading model architecture: /, "");
}

/**
 * Runs `load` with llama.cpp's log captured. On failure, the last error line logged during
 * the load, made readable, or null; other lines pass on to the previous logger unchanged.
 */
export async function withLoadLog<T>(
  llama: Llama,
  load: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; logLine: string | null }> {
  const previous = llama.logger;
  let last: string | null = null;
  llama.logger = (level, message) => {
    // The closing "failed to load model" repeats what the error says; the line before it has the reason.
    if ((level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) && message.trim() !== "" && !GENERIC_LINE.test(message)) {
      last = message;
    }
    previous(level, message);
  };
  try {
    return { ok: true, value: await load() };
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the logger callback, which the type checker's narrowing does not follow
    if (last === null) await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_MS));
    const line: string | null = last;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as above: the logger callback may have set it
    return { ok: false, error, logLine: line === null ? null : readable(line) };
  } finally {
    llama.logger = previous;
  }
}
