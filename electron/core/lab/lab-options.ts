// What the lab is given by whoever runs it (the core, the CLI): its own module, so the lab
// service and the jobs it composes both import it and never each other.

import type { LabEvent } from "../../contract/types.js";
import type { SpawnEngine } from "../engine-client/engine-process.js";
import type { ThreadMemory } from "../engine-client/thread-memory.js";

export interface LabServiceOptions {
  home: string;
  spawnEngine: SpawnEngine;
  threadMemory: ThreadMemory;
  emit: (event: LabEvent) => void;
  /** Called after a variant is written, so the library shows it. */
  onVariantWritten?: () => Promise<void>;
  /** Bytes the chat's loaded model occupies: two big models are never loaded at once. */
  chatModelBytes?: () => number;
  /** Threads llama.cpp quantizes with. Default: every core. */
  quantizeThreads?: number;
}
