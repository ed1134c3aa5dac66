// A conversation's replies: the user's message saved first, the reply queued on the one
// engine (conversations and API requests wait their turn), its start, text and end sent to
// every renderer (each tab showing the conversation streams it; none owns it, so a tab that
// closes never stops it) and checkpointed to disk, and the finished reply saved. One reply at
// a time per conversation: the conversation is held from the send until the reply is on disk.
// Also says what the engine is busy with (`activity`), so a tab can name it and stop it.

import { newId } from "../../common/ids.js";
import { resolveSampling } from "../../contract/chat-settings.js";
import { QuantaError, toWireError, type ErrorParams } from "../../contract/errors.js";
import type { Chat, ChatMessage, CoreEvent, GenerationActivity, GenerationOwnerInfo } from "../../contract/types.js";
import type { EngineGenerationResult, SamplingSettings } from "../../engine/protocol.js";
import type { ModelHost } from "../engine-client/model-host.js";
import type { GenerationDelta, GenerationOwner, GenerationQueue } from "../generation/generation-queue.js";
import type { HardwareMonitor } from "../monitor/hardware-monitor.js";
import { conversationPrompt, type ConversationPrompt } from "./chat-prompt.js";
import type { ChatStore } from "./chat-store.js";

export interface ChatRepliesOptions {
  chats: ChatStore;
  queue: GenerationQueue;
  models: Pick<ModelHost, "loaded" | "state">;
  monitor: HardwareMonitor;
  emit: (event: CoreEvent) => void;
  /** Overrides for tests and benchmarks, under each conversation's own. */
  sampling?: Partial<SamplingSettings>;
  /** How often a reply being written is saved as it stands (default 2 s). */
  checkpointMs?: number;
}

interface ActiveReply {
  chatId: string;
  requestId: string;
  message: ChatMessage;
  /** The last checkpoint of the reply on its way to disk; the final save waits for it. */
  checkpoint: Promise<void>;
  checkpointAt: number;
  /** Its turn on the engine came (the monitor was told it started). */
  started: boolean;
}

const DEFAULT_CHECKPOINT_MS = 2000;

export class ChatReplies {
  readonly #options: ChatRepliesOptions;
  /** The reply each conversation is writing, from its send until it is saved. */
  readonly #active = new Map<string, ActiveReply>();

  constructor(options: ChatRepliesOptions) {
    this.#options = options;
    // Every tab learns whose job runs on the engine as it changes (a send, a start, an end).
    options.queue.onChange(() => options.emit({ type: "generation.activity", activity: this.activity() }));
  }

  /** The job on the engine (whose, named for a person) and how many jobs wait. */
  activity(): GenerationActivity {
    const { queue } = this.#options;
    const running = queue.running;
    const owner = running ? this.#describe(running.owner) : null;
    return { running: running && owner ? { ...owner, requestId: running.requestId } : null, waiting: queue.waiting };
  }

  /** Names the job on the engine for a "busy" refusal elsewhere (a model load, say); none while it is idle. */
  busyWith(): ErrorParams | undefined {
    const running = this.#options.queue.running;
    return running ? this.#busyParams(running.owner, running.requestId) : undefined;
  }

  /** Stops any job on the queue by its request id: a conversation's reply or an API request. */
  async stopRequest(requestId: string): Promise<void> {
    await this.#options.queue.stop(requestId);
  }

  /** A reply is being written (or saved) in this conversation. */
  isReplying(chatId: string): boolean {
    return this.#active.has(chatId);
  }

  async send(chatId: string, text: string): Promise<{ userMessage: ChatMessage; assistantMessageId: string }> {
    const userMessage = userMessageAfter(this.#options.chats.leaf(chatId), text);
    const active = this.#start(chatId, userMessage.id);
    await this.#saveThenGenerate(active, userMessage);
    return { userMessage, assistantMessageId: active.message.id };
  }

  /** A new version of one of the user's messages, and a reply to it. */
  async edit(chatId: string, messageId: string, text: string): Promise<{ userMessage: ChatMessage; assistantMessageId: string }> {
    this.refuseWhileReplying(chatId);
    const original = this.#options.chats.message(chatId, messageId);
    if (original.role !== "user") throw new QuantaError("invalid_request", "Only your own messages can be edited.");
    const userMessage = userMessageAfter(original.parentId ?? null, text);
    const active = this.#start(chatId, userMessage.id);
    await this.#saveThenGenerate(active, userMessage);
    return { userMessage, assistantMessageId: active.message.id };
  }

  /** A new version of a reply, to the same message. */
  async regenerate(chatId: string, messageId: string): Promise<{ assistantMessageId: string }> {
    this.refuseWhileReplying(chatId);
    const original = this.#options.chats.message(chatId, messageId);
    if (original.role !== "assistant" || !original.parentId) {
      throw new QuantaError("invalid_request", "Only a reply to a message can be regenerated.");
    }
    const active = this.#start(chatId, original.parentId);
    await this.#saveThenGenerate(active, null);
    return { assistantMessageId: active.message.id };
  }

  /** Stops the conversation's reply, waiting or running; the text so far is kept. */
  async stop(chatId: string): Promise<void> {
    const active = this.#active.get(chatId);
    if (active) await this.#options.queue.stop(active.requestId);
  }

  /**
   * The conversation with its reply as it is now: on disk only as of its last checkpoint, and
   * before the first not at all, when it goes after its parent (a tab opening the chat mid-reply
   * catches up with the text so far, then streams).
   */
  live(chat: Chat): Chat {
    const live = this.#active.get(chat.id)?.message;
    if (!live) return chat;
    const index = chat.messages.findIndex((message) => message.id === live.id);
    if (index >= 0) {
      chat.messages[index] = structuredClone(live);
      return chat;
    }
    const parent = live.parentId ?? null;
    const keep = parent === null ? 0 : chat.messages.findIndex((message) => message.id === parent) + 1;
    // The parent is not on show (another version was selected meanwhile): the branch stays as it is.
    if (parent === null || keep > 0) chat.messages = [...chat.messages.slice(0, keep), structuredClone(live)];
    return chat;
  }

  /** Throws "busy", naming the conversation and its reply's request, while a reply is written there. */
  refuseWhileReplying(chatId: string, message?: string): void {
    const active = this.#active.get(chatId);
    if (active) {
      throw new QuantaError(
        "busy",
        message ?? `A reply is still being written in "${this.#title(chatId)}". Wait for it or stop it first.`,
        this.#busyParams({ kind: "chat", chatId }, active.requestId),
      );
    }
  }

  /** What a "busy" refusal names: whose job holds the engine (or the conversation), for the renderer to word. */
  #busyParams(owner: GenerationOwner, requestId: string): ErrorParams {
    return owner.kind === "chat"
      ? { reason: "replyInChat", chatId: owner.chatId, title: this.#title(owner.chatId), requestId }
      : { reason: "apiRequest", requestId };
  }

  #describe(owner: GenerationOwner): GenerationOwnerInfo | null {
    if (owner.kind === "api") return { kind: "api" };
    const active = this.#active.get(owner.chatId);
    if (!active) return null;
    return { kind: "chat", chatId: owner.chatId, title: this.#title(owner.chatId), messageId: active.message.id };
  }

  #title(chatId: string): string {
    try {
      return this.#options.chats.get(chatId).title;
    } catch {
      // Deleted meanwhile (only possible once its reply is saved): the id still opens nothing.
      return "";
    }
  }

  /** Claims the conversation (synchronously, so two sends at once cannot both start). */
  #start(chatId: string, parentId: string): ActiveReply {
    this.#options.chats.get(chatId);
    this.refuseWhileReplying(chatId);
    const loaded = this.#options.models.loaded;
    if (!loaded || this.#options.models.state.kind !== "ready") {
      throw new QuantaError("no_model_loaded", "No model is loaded. Pick a model and load it first.");
    }
    const { queue } = this.#options;
    if (queue.full) {
      const running = queue.running;
      throw new QuantaError(
        "busy",
        "Too many requests are waiting for the engine. Try again shortly.",
        running ? this.#busyParams(running.owner, running.requestId) : undefined,
      );
    }
    const active: ActiveReply = {
      chatId,
      requestId: newId(),
      message: {
        id: newId(),
        role: "assistant",
        text: "",
        createdAt: new Date().toISOString(),
        status: "streaming",
        modelId: loaded.model.modelId,
        stats: null,
        error: null,
        parentId,
      },
      checkpoint: Promise.resolve(),
      checkpointAt: performance.now(),
      started: false,
    };
    this.#active.set(chatId, active);
    return active;
  }

  /** Saves the user's message (if any) before the reply is queued; a failed save frees the conversation. */
  async #saveThenGenerate(active: ActiveReply, userMessage: ChatMessage | null): Promise<void> {
    try {
      if (userMessage) await this.#options.chats.saveMessage(active.chatId, userMessage);
    } catch (error) {
      this.#active.delete(active.chatId);
      throw error;
    }
    // Before any delta: every tab showing the conversation adds both messages and streams the reply.
    this.#options.emit({ type: "generation.started", chatId: active.chatId, userMessage, message: { ...active.message } });
    void this.#reply(active, this.#promptFor(active.chatId, active.message.parentId ?? null));
  }

  /** The branch down to `parentId`, after the conversation's system prompt. */
  #promptFor(chatId: string, parentId: string | null): ConversationPrompt {
    return conversationPrompt(this.#options.chats, chatId, parentId);
  }

  /** Waits for the engine, writes the reply, saves it, and only then lets the conversation go. */
  async #reply(active: ActiveReply, prompt: ConversationPrompt): Promise<void> {
    const { chats, queue, models, monitor, emit } = this.#options;
    const { message, chatId } = active;
    const settings = chats.settings(chatId);
    const replySampling = resolveSampling(settings, this.#options.sampling);
    let file = models.loaded?.entry;
    try {
      const { done } = queue.submit<EngineGenerationResult>({
        owner: { kind: "chat", chatId },
        requestId: active.requestId,
        onDelta: (delta) => this.#delta(active, delta),
        run: ({ requestId, engine }) => {
          active.started = true;
          file = models.loaded?.entry;
          monitor.generationStarted(chatId, message.id);
          return engine.generate({
            requestId,
            messages: prompt.messages,
            sampling: replySampling,
            ...(settings.contextSize === null ? {} : { contextLimit: settings.contextSize }),
            chatTemplate: settings.chatTemplate,
            droppedBefore: prompt.droppedBefore,
          });
        },
      });
      const result = await done;
      message.text = result.text;
      message.stats = result.stats;
      message.status = result.stats.stopReason === "stopped" ? "stopped" : "complete";
      if (file) {
        message.provenance = {
          model: {
            fileName: file.summary.fileName,
            quantization: file.summary.quantization,
            sizeBytes: file.summary.sizeBytes,
            mtimeMs: file.mtimeMs,
          },
          sampling: replySampling,
          systemPrompt: settings.systemPrompt,
          contextSize: result.contextSize,
          chatTemplate: result.chatTemplate,
          droppedMessages: result.droppedMessages,
        };
      }
    } catch (error) {
      const wire = toWireError(error, "generation_failed");
      if (wire.code === "cancelled") {
        // Stopped while it waited for the engine: nothing was written, nothing went wrong.
        message.status = "stopped";
      } else {
        message.status = "failed";
        message.error = wire;
      }
    }
    if (active.started) monitor.generationEnded(message);
    try {
      await active.checkpoint;
      await chats.saveMessage(chatId, message);
    } catch (error) {
      // Not on disk: the reply did not complete, whatever the engine said.
      message.status = "failed";
      message.error = toWireError(error, "storage_failed");
    } finally {
      // Held until saved: a send before this would attach to the message before the reply.
      this.#active.delete(chatId);
    }
    emit({ type: "generation.done", chatId, message: { ...message } });
  }

  #delta(active: ActiveReply, delta: GenerationDelta): void {
    active.message.text += delta.text;
    this.#checkpoint(active);
    this.#options.monitor.generationProgress(delta);
    this.#options.emit({
      type: "generation.delta",
      chatId: active.chatId,
      messageId: active.message.id,
      text: delta.text,
      contextUsed: delta.contextUsed,
    });
  }

  /**
   * Saves a long reply as it stands every few seconds (status "streaming"), so that if the
   * core itself dies (the desktop app is killed) the text so far is on disk; on the next
   * start the store marks such a reply interrupted. One checkpoint at a time.
   */
  #checkpoint(active: ActiveReply): void {
    const now = performance.now();
    if (now - active.checkpointAt < (this.#options.checkpointMs ?? DEFAULT_CHECKPOINT_MS)) return;
    active.checkpointAt = now;
    const snapshot = { ...active.message };
    active.checkpoint = active.checkpoint
      .then(() => this.#options.chats.saveMessage(active.chatId, snapshot))
      // The final save reports a storage failure; a missed checkpoint only loses its timing.
      .catch(() => undefined);
  }
}

function userMessageAfter(parentId: string | null, text: string): ChatMessage {
  return {
    id: newId(),
    role: "user",
    text,
    createdAt: new Date().toISOString(),
    status: "complete",
    modelId: null,
    stats: null,
    error: null,
    parentId,
  };
}
