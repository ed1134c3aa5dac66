// The renderer's one door into electron/contract: types, the error class, and the wire codec.
// Nothing else in the renderer imports from electron/, so the boundary stays where it was drawn.

export type {
  AppInfo,
  Chat,
  ChatMessage,
  ChatSummary,
  CoreEvent,
  EngineState,
  GenerationStats,
  LoadedModel,
  MessageRole,
  MessageStatus,
  ModelSummary,
  StopReason,
  ThreadCalibration,
  ThreadTrial,
} from "../../../../electron/contract/types.js";
export type { CoreApi, RendererApi, SendMessageResult } from "../../../../electron/contract/api.js";
export type { ErrorCode, WireError } from "../../../../electron/contract/errors.js";
export { QuantaError } from "../../../../electron/contract/errors.js";
export {
  decodeRpcMessage,
  decodeRpcText,
  encodeRpcMessage,
  encodeRpcText,
} from "../../../../electron/contract/wire.js";
