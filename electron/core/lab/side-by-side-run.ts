// One prompt through each variant, reference first, one model loaded at a time in one lab
// engine: "lab.stream" events as each continuation comes, "lab.sideBySide" at start and end.

import { statSync } from "node:fs";
import path from "node:path";
import { toWireError } from "../../contract/errors.js";
import type { SideBySide } from "../../contract/types.js";
import type { LabContinuation, LabEngineProgress } from "../../engine/lab-protocol.js";
import { newId } from "../../common/ids.js";
import { modelFileKey } from "../engine-client/thread-memory.js";
import type { LabEngine } from "./lab-engine.js";
import type { LabEngines } from "./lab-engines.js";
import type { LabServiceOptions } from "./lab-options.js";
import { checkVariantsOfOneModel, readVariant } from "./variant-check.js";

/** Index of the first token where `tokens` leaves `reference`; null when it never does. */
export function divergence(reference: readonly number[], tokens: readonly number[]): number | null {
  const length = Math.max(reference.length, tokens.length);
  for (let index = 0; index < length; index++) if (reference[index] !== tokens[index]) return index;
  return null;
}

export class SideBySideRuns {
  constructor(
    private readonly options: LabServiceOptions,
    private readonly engines: LabEngines,
  ) {}

  private engine(onProgress: (progress: LabEngineProgress) => void, onPiece: (text: string) => void): Promise<LabEngine> {
    return this.engines.start(onProgress, onPiece);
  }

  /**
   * One prompt through each variant (reference first, one loaded at a time, in a lab engine
   * of its own): "lab.stream" events as text comes, "lab.sideBySide" at the start and end.
   */
  async start(
    files: Array<{ path: string; modelId: string | null }>,
    prompt: string,
    maxTokens: number,
  ): Promise<{ id: string; done: Promise<SideBySide> }> {
    const variants = await Promise.all(files.map((file) => readVariant(file.path, file.modelId)));
    const reference = checkVariantsOfOneModel(variants);
    const ordered = [reference, ...variants.filter((variant) => variant !== reference)];
    const result: SideBySide = {
      id: newId(),
      prompt,
      maxTokens,
      status: "running",
      columns: ordered.map((variant) => ({
        modelId: variant.modelId,
        fileName: path.basename(variant.path),
        fileType: variant.description.fileType,
        isReference: variant === reference,
        pieces: [],
        divergesAt: null,
        referenceProbabilities: [],
        error: null,
      })),
      error: null,
    };
    this.options.emit({ type: "lab.sideBySide", result: structuredClone(result) });
    const done = (async (): Promise<SideBySide> => {
      let column = 0;
      try {
        const engine = await this.engine(
          () => undefined,
          (text) => this.options.emit({ type: "lab.stream", id: result.id, column, text }),
        );
        try {
          let referenceTokens: number[] | null = null;
          for (const [index, variant] of ordered.entries()) {
            column = index;
            const stat = statSync(variant.path);
            const remembered = await this.options.threadMemory
              .recall(modelFileKey(stat.size, stat.mtimeMs, path.basename(variant.path)))
              .catch(() => null);
            const target = result.columns[index];
            if (!target) continue;
            try {
              const continuation: LabContinuation = await engine.api.labContinue({
                path: variant.path,
                prompt,
                maxTokens,
                threads: remembered?.chosen ?? null,
                referenceTokens,
              });
              target.pieces = continuation.pieces;
              target.referenceProbabilities = continuation.referenceProbabilities;
              if (referenceTokens === null) referenceTokens = continuation.tokens;
              else target.divergesAt = divergence(referenceTokens, continuation.tokens);
            } catch (error) {
              if (index === 0) throw error;
              target.error = toWireError(error, "generation_failed");
            }
          }
          result.status = "complete";
        } finally {
          engine.stop();
        }
      } catch (error) {
        result.status = "failed";
        result.error = toWireError(error, "generation_failed");
      }
      this.options.emit({ type: "lab.sideBySide", result: structuredClone(result) });
      return result;
    })();
    return { id: result.id, done };
  }
}
