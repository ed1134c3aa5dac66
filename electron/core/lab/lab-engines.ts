// The lab's engine processes: each started for one job, tracked until it stops, so that
// shutting the core down ends every one of them.

import type { LabEngineProgress } from "../../engine/lab-protocol.js";
import type { SpawnEngine } from "../engine-client/engine-process.js";
import { startLabEngine, type LabEngine } from "./lab-engine.js";

export class LabEngines {
  private readonly running = new Set<LabEngine>();

  constructor(private readonly spawn: SpawnEngine) {}

  async start(onProgress: (progress: LabEngineProgress) => void, onPiece?: (text: string) => void): Promise<LabEngine> {
    const engine = await startLabEngine(this.spawn, onProgress, onPiece);
    this.running.add(engine);
    return {
      api: engine.api,
      stop: (reason) => {
        this.running.delete(engine);
        engine.stop(reason);
      },
    };
  }

  /** Ends every lab engine (their jobs then fail or are saved as they stand). */
  stopAll(): void {
    for (const engine of this.running) engine.stop();
    this.running.clear();
  }
}
