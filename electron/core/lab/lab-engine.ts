// An engine process for one lab job: started when a quantization or a comparison begins and
// ended when it finishes. Ending it is how a job is cancelled (llama.cpp's quantizer has no
// abort hook), and a crash in it never touches the chat's engine.

import { createBirpc, type BirpcReturn } from "birpc";
import { QuantaError } from "../../contract/errors.js";
import { validatingResolver } from "../../contract/validation.js";
import { decodeRpcMessage, encodeRpcMessage } from "../../contract/wire.js";
import { labEngineEventSchemas, type LabEngineApi, type LabEngineEvents, type LabEngineProgress } from "../../engine/lab-protocol.js";
import { engineEventSchemas, type EngineEvents } from "../../engine/protocol.js";
import type { SpawnEngine } from "../engine-client/engine-process.js";

const START_TIMEOUT_MS = 30_000;

export interface LabEngine {
  readonly api: BirpcReturn<LabEngineApi, EngineEvents & LabEngineEvents>;
  /** Ends the process; calls in flight fail with `reason`. */
  stop(reason?: QuantaError): void;
}

export function startLabEngine(
  spawn: SpawnEngine,
  onProgress: (progress: LabEngineProgress) => void,
  onPiece: (text: string) => void = () => undefined,
): Promise<LabEngine> {
  return new Promise((resolve, reject) => {
    const child = spawn();
    let stopped: QuantaError | null = null;
    let ready = false;
    const timer = setTimeout(() => {
      child.kill();
      reject(new QuantaError("engine_unavailable", "The lab's engine process did not start within 30 seconds."));
    }, START_TIMEOUT_MS);
    const handlers: EngineEvents & LabEngineEvents = {
      ready: () => {
        ready = true;
        clearTimeout(timer);
        resolve({
          api,
          stop(reason) {
            stopped = reason ?? new QuantaError("engine_unavailable", "The lab's engine was stopped.");
            api.$close(stopped);
            child.kill();
          },
        });
      },
      loadProgress: () => undefined,
      delta: () => undefined,
      labProgress: (progress) => onProgress(progress),
      labPiece: ({ text }) => onPiece(text),
    };
    const api = createBirpc<LabEngineApi, EngineEvents & LabEngineEvents>(handlers, {
      post: (message) => child.send(encodeRpcMessage(message)),
      on: (listener) => child.onMessage((message) => listener(decodeRpcMessage(message))),
      resolver: validatingResolver({ ...engineEventSchemas, ...labEngineEventSchemas }),
      timeout: -1,
    });
    child.onExit((exit) => {
      clearTimeout(timer);
      const error =
        stopped ??
        new QuantaError(
          "engine_crashed",
          `The lab's engine stopped unexpectedly (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? "unknown"}`}). The chat is not affected.`,
        );
      api.$close(error);
      if (!ready) reject(error);
    });
  });
}
