// An engine process for one lab job: started when a quantization or a comparison begins and
// ended when it finishes. Ending it is how a job is cancelled (llama.cpp's quantizer has no
// abort hook), and a crash in it never touches the chat's engine.

import type { BirpcReturn } from "birpc";
import { QuantaError } from "../../contract/errors.js";
import { labEngineEventSchemas, type LabEngineApi, type LabEngineEvents, type LabEngineProgress } from "../../engine/lab-protocol.js";
import { engineEventSchemas, type EngineEvents } from "../../engine/protocol.js";
import { connectEngine, describeExit } from "../engine-client/engine-connection.js";
import type { SpawnEngine } from "../engine-client/engine-process.js";

export interface LabEngine {
  readonly api: BirpcReturn<LabEngineApi, EngineEvents & LabEngineEvents>;
  /** Ends the process; calls in flight fail with `reason`. */
  stop(reason?: QuantaError): void;
}

export async function startLabEngine(
  spawn: SpawnEngine,
  onProgress: (progress: LabEngineProgress) => void,
  onPiece: (text: string) => void = () => undefined,
): Promise<LabEngine> {
  let stopped: QuantaError | null = null;
  const {
    process: child,
    rpc: api,
    ready,
  } = connectEngine<LabEngineApi, EngineEvents & LabEngineEvents>({
    spawn,
    role: "lab",
    name: "The lab's engine process",
    eventSchemas: { ...engineEventSchemas, ...labEngineEventSchemas },
    handlers: {
      loadProgress: () => undefined,
      delta: () => undefined,
      labProgress: (progress) => onProgress(progress),
      labPiece: ({ text }) => onPiece(text),
    },
    exitError: (exit) =>
      stopped ??
      new QuantaError("engine_crashed", `The lab's engine stopped unexpectedly (${describeExit(exit)}). The chat is not affected.`),
  });
  await ready;
  return {
    api,
    stop(reason) {
      stopped = reason ?? new QuantaError("engine_unavailable", "The lab's engine was stopped.");
      api.$close(stopped);
      child.kill();
    },
  };
}
