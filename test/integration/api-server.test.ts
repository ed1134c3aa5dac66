// The local API server against the real engine and the shared test models, through the
// official clients (openai, @anthropic-ai/sdk) and through raw HTTP for what an attacker or a
// broken client sends.

import Anthropic from "@anthropic-ai/sdk";
import { promises as fs } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { ApiRequestLogEntry, CoreEvent } from "../../electron/contract/types.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";

const KEY = "test-key-0123456789abcdef";
let models: string;
let harness: CoreHarness;
let baseUrl: string;
let port: number;
let openai: OpenAI;
let anthropic: Anthropic;

const STORIES = "stories260K";
/** The stories model's file time, set before the library scans it (2024-03-05 12:34:56 UTC). */
const STORIES_MTIME = 1_709_642_096;
const TINY = "llama-2-tiny-random";

beforeAll(async () => {
  models = await tempDir("api-models");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(models, "llama-2-tiny-random.gguf"));
  await fs.utimes(path.join(models, "stories260K.gguf"), STORIES_MTIME, STORIES_MTIME);
  harness = await startCore([models]);
  await harness.waitForEngine("idle");
  const state = await harness.core.apiServer.startWith({ port: 0, requireKeyOnLoopback: true, apiKey: KEY });
  baseUrl = state.status.baseUrl ?? "";
  port = Number(new URL(baseUrl).port);
  openai = new OpenAI({ baseURL: baseUrl, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: baseUrl.replace(/\/v1$/, ""), apiKey: KEY, maxRetries: 0 });
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  if (models) await fs.rm(models, { recursive: true, force: true });
});

/** A raw request: exact headers and body, as a client (or an attacker) sends them. */
function raw(
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, method, path: target, headers: { Authorization: `Bearer ${KEY}`, ...options.headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    request.on("error", reject);
    if (options.body !== undefined) request.end(options.body);
    else request.end();
  });
}

const openAiError = z.object({
  error: z.object({ message: z.string().min(1), type: z.string().min(1), param: z.string().nullable(), code: z.string().nullable() }),
});
const anthropicError = z.object({ type: z.literal("error"), error: z.object({ type: z.string().min(1), message: z.string().min(1) }) });

async function stillAnswers(): Promise<void> {
  const list = await openai.models.list();
  expect(list.data.length).toBeGreaterThan(0);
}

function logEntries(): ApiRequestLogEntry[] {
  return harness.events.flatMap((event: CoreEvent) => (event.type === "api.request" ? [event.entry] : []));
}

describe("OpenAI client", () => {
  it("lists the library under readable ids, with which are loaded", async () => {
    const list = await openai.models.list();
    const ids = list.data.map((model) => model.id).sort();
    expect(ids).toEqual([TINY, STORIES]);
    for (const model of list.data) {
      expect(model.object).toBe("model");
      expect(model.owned_by).toBe("folder");
      expect((model as unknown as { loaded: boolean }).loaded).toBe(false);
    }
    const one = await openai.models.retrieve(STORIES);
    expect(one.id).toBe(STORIES);
  });

  it("dates each model by its file's last change, in Unix seconds", async () => {
    // Set in beforeAll: a time no copy or scan could have produced by chance.
    const list = await openai.models.list();
    expect(list.data.find((model) => model.id === STORIES)?.created).toBe(STORIES_MTIME);
    const one = await openai.models.retrieve(TINY);
    const { mtimeMs } = await fs.stat(path.join(models, "llama-2-tiny-random.gguf"));
    expect(one.created).toBe(Math.floor(mtimeMs / 1000));
    expect(one.created).toBeGreaterThan(1_600_000_000);
  });

  it("answers a chat, loading the model it names on request, with usage", async () => {
    const completion = await openai.chat.completions.create({
      model: STORIES,
      messages: [
        { role: "system", content: "You tell stories." },
        { role: "user", content: [{ type: "text", text: "Tell me about a cat." }] },
      ],
      /* eslint-disable @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them */
      max_tokens: 24,
      seed: 7,
      /* eslint-enable @typescript-eslint/no-deprecated */
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(STORIES);
    const choice = completion.choices[0];
    expect(choice?.message.role).toBe("assistant");
    expect(choice?.message.content?.length ?? 0).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(choice?.finish_reason);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(5);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(24);
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(0);
    const list = await openai.models.list();
    expect(list.data.find((model) => model.id === STORIES)).toMatchObject({ loaded: true });
  });

  it("streams exactly as OpenAI does: role first, one id, null finish until the last choice chunk, usage, [DONE]", async () => {
    const response = await raw("POST", "/v1/chat/completions", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        model: STORIES,
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 30,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain("text/event-stream");
    const events = response.body.split("\n\n").filter((block) => block.trim() !== "");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((block) => {
      expect(block.startsWith("data: ")).toBe(true);
      return JSON.parse(block.slice(6)) as {
        id: string;
        object: string;
        choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
        usage?: {
          prompt_tokens: number;
          completion_tokens: number;
          total_tokens: number;
          prompt_tokens_details: { cached_tokens: number };
        };
      };
    });
    const ids = new Set(chunks.map((chunk) => chunk.id));
    expect(ids.size).toBe(1);
    for (const chunk of chunks) expect(chunk.object).toBe("chat.completion.chunk");
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.completion_tokens).toBe(30);
    expect(usageChunk?.usage?.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(0);
    const choiceChunks = chunks.slice(0, -1);
    for (const chunk of choiceChunks.slice(0, -1)) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0]?.finish_reason).toBeNull();
    }
    expect(choiceChunks.at(-1)?.choices[0]?.finish_reason).toBe("length");
    const text = choiceChunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text.length).toBeGreaterThan(0);
  });

  it("streams through the official client, with the usage chunk", async () => {
    const stream = await openai.chat.completions.create({
      model: STORIES,
      messages: [{ role: "user", content: "Hello" }],
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(12);
  });

  it("max_tokens ends the reply with finish_reason length", async () => {
    const completion = await openai.chat.completions.create({
      model: STORIES,
      messages: [{ role: "user", content: "Tell a long story." }],
      max_completion_tokens: 5,
    });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens).toBe(5);
  });

  it("the same seed gives the same reply twice; a stop sequence cuts the reply before it", async () => {
    const ask = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
      openai.chat.completions.create({
        model: STORIES,
        messages: [{ role: "user", content: "Once upon a time there was a dog." }],
        /* eslint-disable @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them */
        max_tokens: 40,
        seed: 1234,
        /* eslint-enable @typescript-eslint/no-deprecated */
        temperature: 0.9,
        ...extra,
      });
    const first = await ask();
    const second = await ask();
    const text = first.choices[0]?.message.content ?? "";
    expect(text.length).toBeGreaterThan(10);
    expect(second.choices[0]?.message.content).toBe(text);

    // The last word of that reply, as the stop sequence: the same reply ends just before it,
    // and it is a stop even though the reply also reached max_tokens on that word.
    const words = text.split(" ").filter((word, index) => index > 0 && /^[a-z]{2,}$/.test(word));
    const stop = words.at(-1);
    expect(stop).toBeDefined();
    const stopped = await ask({ stop: [` ${stop ?? ""}`] });
    expect(stopped.choices[0]?.finish_reason).toBe("stop");
    expect(stopped.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(` ${stop ?? ""}`)));
  });

  it("json_schema output parses and matches the schema, even from a tiny model", async () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", maxLength: 20 },
        age: { type: "integer" },
        pet: { enum: ["cat", "dog"] },
      },
      required: ["name", "age", "pet"],
      additionalProperties: false,
    };
    const completion = await openai.chat.completions.create({
      model: STORIES,
      messages: [{ role: "user", content: "Describe a person." }],
      /* eslint-disable @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them */
      max_tokens: 200,
      seed: 3,
      /* eslint-enable @typescript-eslint/no-deprecated */
      response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
    });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const parsed: unknown = JSON.parse(completion.choices[0]?.message.content ?? "");
    const check = z.object({ name: z.string().max(20), age: z.number().int(), pet: z.enum(["cat", "dog"]) }).strict();
    expect(check.safeParse(parsed).success).toBe(true);

    const object = await openai.chat.completions.create({
      model: STORIES,
      messages: [{ role: "user", content: "Anything." }],
      /* eslint-disable @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them */
      max_tokens: 200,
      seed: 4,
      /* eslint-enable @typescript-eslint/no-deprecated */
      response_format: { type: "json_object" },
    });
    // Any JSON: a tiny model may ramble inside a string until max_tokens; what it wrote is still JSON so far.
    const text = object.choices[0]?.message.content ?? "";
    expect(text.trimStart().startsWith("{")).toBe(true);
    if (object.choices[0]?.finish_reason === "stop") expect(() => JSON.parse(text) as unknown).not.toThrow();
  });

  it("with tools offered in auto mode, a reply in words streams in pieces that add up to the same reply unstreamed", async () => {
    const request = {
      model: STORIES,
      messages: [{ role: "user" as const, content: "Tell me a story about a cat." }],
      tools: [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: {} } } }],
      max_tokens: 48,
      seed: 9,
    };
    // The first request evaluates the prompt in one batch; later ones reuse it from the cache,
    // whose logits can differ in the last bits. Both compared replies come from the cache.
    await openai.chat.completions.create(request);
    const whole = await openai.chat.completions.create(request);
    const stream = await openai.chat.completions.create({ ...request, stream: true });
    let streamed = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      streamed += choice?.delta.content ?? "";
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(whole.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(streamed.length).toBeGreaterThan(10);
    expect(streamed).toBe(whole.choices[0]?.message.content);
    expect(finish).toBe(whole.choices[0]?.finish_reason);
  });

  it("calls a tool (streamed with index and id), and takes the tool's result back", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather in a city",
          parameters: { type: "object", properties: { city: { enum: ["Paris", "Rome"] } }, required: ["city"] },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const stream = await openai.chat.completions.create({
      model: TINY,
      messages,
      tools,
      tool_choice: "required",
      /* eslint-disable @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them */
      max_tokens: 64,
      seed: 5,
      /* eslint-enable @typescript-eslint/no-deprecated */
      stream: true,
    });
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const piece of choice?.delta.tool_calls ?? []) {
        expect(typeof piece.index).toBe("number");
        const call = calls.get(piece.index) ?? { id: "", name: "", arguments: "" };
        if (piece.id) call.id = piece.id;
        if (piece.function?.name) call.name = piece.function.name;
        call.arguments += piece.function?.arguments ?? "";
        calls.set(piece.index, call);
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(finish).toBe("tool_calls");
    const call = calls.get(0);
    expect(call?.id).toMatch(/^call_/);
    expect(call?.name).toBe("get_weather");
    expect(JSON.parse(call?.arguments ?? "")).toEqual({ city: expect.stringMatching(/^(Paris|Rome)$/) as unknown });

    const named = await openai.chat.completions.create({
      model: TINY,
      messages,
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      max_tokens: 64,
    });
    const toolCall = named.choices[0]?.message.tool_calls?.[0];
    expect(named.choices[0]?.finish_reason).toBe("tool_calls");
    expect(named.choices[0]?.message.content).toBeNull();
    expect(toolCall?.type).toBe("function");

    const answer = await openai.chat.completions.create({
      model: TINY,
      messages: [
        ...messages,
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: call?.id ?? "", type: "function", function: { name: "get_weather", arguments: call?.arguments ?? "{}" } }],
        },
        { role: "tool", tool_call_id: call?.id ?? "", content: "Sunny, 24 °C" },
      ],
      tools,
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      max_tokens: 16,
    });
    expect(answer.choices[0]?.message.role).toBe("assistant");
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(named.usage?.prompt_tokens ?? 0);
  });

  it("completes a raw prompt, streamed and not", async () => {
    const completion = await openai.completions.create({ model: STORIES, prompt: "Once upon a time", max_tokens: 10, seed: 2 });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens).toBe(10);

    const stream = await openai.completions.create({ model: STORIES, prompt: "Once upon a time", max_tokens: 10, seed: 2, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(completion.choices[0]?.text);
  });

  it("logit_bias steers the reply, the end-of-text token included", async () => {
    // The real tokenizer, for the ids a client would look up.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const vocabulary = await llama.loadModel({ modelPath: STORIES_MODEL, vocabOnly: true });
    // SentencePiece puts its word-start mark on "the": the token is " the".
    const [the] = vocabulary.tokenize("the", false);
    const [capital] = vocabulary.tokenize("The", false);
    const eos = vocabulary.tokens.eos;
    await vocabulary.dispose();
    await llama.dispose();
    expect(the).toBeDefined();
    expect(eos).not.toBeNull();
    const ask = (bias: Record<string, number>) =>
      openai.completions.create({ model: STORIES, prompt: "Once upon a time", max_tokens: 6, seed: 2, logit_bias: bias });

    const steered = await ask({ [String(the)]: 100 });
    expect(steered.choices[0]?.text).toBe(" the the the the the the");
    // The end of text made certain: the reply ends before its first token, as a stop.
    const ended = await ask({ [String(eos)]: 100 });
    expect(ended.choices[0]?.text).toBe("");
    expect(ended.choices[0]?.finish_reason).toBe("stop");
    expect(ended.usage?.completion_tokens).toBe(0);
    // Both " the" and " The" raised: " the" comes. Banned, it never does.
    const both = await ask({ [String(the)]: 100, [String(capital)]: 100 });
    expect(both.choices[0]?.text).toContain(" the");
    const banned = await ask({ [String(the)]: -100, [String(capital)]: 100 });
    expect(banned.choices[0]?.text).toBe(" The The The The The The");
  });

  it("gives log probabilities for each token when asked", async () => {
    const completion = await openai.chat.completions.create({
      model: STORIES,
      messages: [{ role: "user", content: "Hi" }],
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      max_tokens: 6,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content).toHaveLength(6);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      // The model's three most likely tokens at that position, most likely first (api-logprobs.test.ts checks the values).
      expect(entry.top_logprobs).toHaveLength(3);
      const values = entry.top_logprobs.map((top) => top.logprob);
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(entry.logprob).toBeLessThanOrEqual(values[0] ?? 0);
    }
  });

  it("makes embeddings: the model's width, unit length, the same vector for the same text", async () => {
    const result = await openai.embeddings.create({ model: STORIES, input: ["a cat", "a dog", "a cat"] });
    expect(result.data).toHaveLength(3);
    const [a, b, c] = result.data.map((item) => item.embedding);
    expect(a?.length).toBeGreaterThan(0);
    expect(b?.length).toBe(a?.length);
    expect(c).toEqual(a);
    expect(b).not.toEqual(a);
    const norm = Math.sqrt((a ?? []).reduce((sum, value) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 4);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });
});

describe("Anthropic client", () => {
  it("answers a message", async () => {
    const message = await anthropic.messages.create({
      model: STORIES,
      max_tokens: 16,
      system: "You tell stories.",
      messages: [{ role: "user", content: "Tell me about a cat." }],
    });
    expect(message.type).toBe("message");
    expect(message.role).toBe("assistant");
    expect(message.content[0]?.type).toBe("text");
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage.output_tokens).toBe(16);
  });

  it("streams a message with Anthropic's events", async () => {
    const stream = anthropic.messages.stream({ model: STORIES, max_tokens: 12, messages: [{ role: "user", content: "Hello" }] });
    const types: string[] = [];
    let promptTokens = 0;
    stream.on("streamEvent", (event) => {
      types.push(event.type);
      if (event.type === "message_start")
        promptTokens = event.message.usage.input_tokens + (event.message.usage.cache_read_input_tokens ?? 0);
    });
    const final = await stream.finalMessage();
    expect(types[0]).toBe("message_start");
    expect(types).toContain("content_block_start");
    expect(types).toContain("content_block_delta");
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(final.stop_reason).toBe("max_tokens");
    expect(final.usage.output_tokens).toBe(12);
    // message_start already carries the prompt's size, as the engine counted it.
    expect(promptTokens).toBeGreaterThan(5);
    expect(promptTokens).toBe(final.usage.input_tokens + (final.usage.cache_read_input_tokens ?? 0));
  });

  it("says which stop sequence ended a message, streamed and not", async () => {
    const ask = {
      model: STORIES,
      max_tokens: 40,
      temperature: 0,
      messages: [{ role: "user" as const, content: "Once upon a time there was a dog." }],
    };
    const free = await anthropic.messages.create(ask);
    const text = free.content[0]?.type === "text" ? free.content[0].text : "";
    // No stop sequence ended that one.
    expect(free.stop_sequence).toBeNull();
    expect(free.stop_reason).toBe("max_tokens");
    // A word from the middle of that reply, beside one that never comes: the same reply ends just before the word.
    const words = text.split(" ").filter((word, index) => index > 0 && /^[a-z]{2,}$/.test(word));
    const word = words[Math.floor(words.length / 2)];
    expect(word).toBeDefined();
    const stop = ` ${word ?? ""}`;
    const stopSequences = ["zzqx never", stop];

    const message = await anthropic.messages.create({ ...ask, stop_sequences: stopSequences });
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe(stop);
    expect(message.content[0]?.type === "text" ? message.content[0].text : null).toBe(text.slice(0, text.indexOf(stop)));

    const stream = anthropic.messages.stream({ ...ask, stop_sequences: stopSequences });
    let delta: { stop_reason: string | null; stop_sequence: string | null } | null = null;
    stream.on("streamEvent", (event) => {
      if (event.type === "message_delta") delta = event.delta;
    });
    const final = await stream.finalMessage();
    expect(delta).toEqual({ stop_reason: "stop_sequence", stop_sequence: stop });
    expect(final.stop_reason).toBe("stop_sequence");
    expect(final.stop_sequence).toBe(stop);
    expect(final.content[0]?.type === "text" ? final.content[0].text : null).toBe(text.slice(0, text.indexOf(stop)));
  });

  it("uses a tool and takes the tool_result back", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "The weather",
        input_schema: { type: "object", properties: { city: { enum: ["Paris", "Rome"] } }, required: ["city"] },
      },
    ];
    const message = await anthropic.messages.create({
      model: TINY,
      max_tokens: 64,
      tools,
      tool_choice: { type: "tool", name: "get_weather" },
      messages: [{ role: "user", content: "Weather in Rome?" }],
    });
    expect(message.stop_reason).toBe("tool_use");
    const use = message.content.find((block): block is Anthropic.ToolUseBlock => block.type === "tool_use");
    expect(use?.name).toBe("get_weather");
    expect(use?.input).toEqual({ city: expect.stringMatching(/^(Paris|Rome)$/) as unknown });

    const next = await anthropic.messages.create({
      model: TINY,
      max_tokens: 8,
      tools,
      messages: [
        { role: "user", content: "Weather in Rome?" },
        { role: "assistant", content: message.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use?.id ?? "", content: "Rainy" }] },
      ],
    });
    expect(next.role).toBe("assistant");
  });
});

describe("bad input", () => {
  const chatBody = { model: STORIES, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 };

  it("refuses a missing or wrong key with 401 in each API's shape", async () => {
    const missing = await raw("POST", "/v1/chat/completions", { headers: { Authorization: "" }, body: JSON.stringify(chatBody) });
    expect(missing.status).toBe(401);
    expect(openAiError.parse(JSON.parse(missing.body)).error.code).toBe("missing_api_key");
    const wrong = await raw("POST", "/v1/chat/completions", {
      headers: { Authorization: "Bearer nope-nope-nope-nope" },
      body: JSON.stringify(chatBody),
    });
    expect(wrong.status).toBe(401);
    expect(openAiError.parse(JSON.parse(wrong.body)).error.code).toBe("invalid_api_key");
    const anthropicWrong = await raw("POST", "/v1/messages", {
      headers: { Authorization: "", "x-api-key": "nope-nope-nope-nope" },
      body: "{}",
    });
    expect(anthropicWrong.status).toBe(401);
    expect(anthropicError.parse(JSON.parse(anthropicWrong.body)).error.type).toBe("authentication_error");
    await expect(new OpenAI({ baseURL: baseUrl, apiKey: "wrong-key", maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
    await stillAnswers();
  });

  it("an unknown model is a 404; n: 2 a 400 naming n", async () => {
    await expect(
      openai.chat.completions.create({ ...chatBody, model: "no-such-model" } as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    const anthropicMissing = await raw("POST", "/v1/messages", {
      body: JSON.stringify({ model: "no-such-model", max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(anthropicMissing.status).toBe(404);
    expect(anthropicError.parse(JSON.parse(anthropicMissing.body)).error.type).toBe("not_found_error");
    const two = await raw("POST", "/v1/chat/completions", { body: JSON.stringify({ ...chatBody, n: 2 }) });
    expect(two.status).toBe(400);
    const error = openAiError.parse(JSON.parse(two.body)).error;
    expect(error.param).toBe("n");
    expect(error.message).toContain("n: 1");
    await stillAnswers();
  });

  it("a 10 MB body is a 413, malformed JSON a 400, an unknown route a 404, a wrong method a 405", async () => {
    const big = await raw("POST", "/v1/chat/completions", { body: Buffer.alloc(10 * 1024 * 1024, 0x20) });
    expect(big.status).toBe(413);
    expect(openAiError.parse(JSON.parse(big.body)).error.code).toBe("request_too_large");
    const malformed = await raw("POST", "/v1/chat/completions", { body: '{"model": "stories260K", "messages": [' });
    expect(malformed.status).toBe(400);
    expect(openAiError.parse(JSON.parse(malformed.body)).error.message).toContain("not valid JSON");
    const route = await raw("GET", "/v1/nothing-here");
    expect(route.status).toBe(404);
    openAiError.parse(JSON.parse(route.body));
    const method = await raw("GET", "/v1/chat/completions");
    expect(method.status).toBe(405);
    await stillAnswers();
  });

  it("wrong types in every field group: 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: "hello" }, "messages"],
      [{ messages: [{ role: "wizard", content: "Hi" }] }, "messages[0].role"],
      [{ messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
      [{ temperature: "hot" }, "temperature"],
      [{ top_p: 3 }, "top_p"],
      [{ max_tokens: -1 }, "max_tokens"],
      [{ seed: 1.5 }, "seed"],
      [{ stop: 7 }, "stop"],
      [{ frequency_penalty: 9 }, "frequency_penalty"],
      [{ logit_bias: { abc: 1 } }, "logit_bias.abc"],
      [{ logprobs: "yes" }, "logprobs"],
      [{ stream: "yes" }, "stream"],
      [{ response_format: { type: "xml" } }, "response_format.type"],
      [{ tools: [{ type: "function", function: { name: "bad name!" } }] }, "tools[0].function.name"],
      [{ tool_choice: "sometimes" }, "tool_choice"],
      [{ model: 12 }, "model"],
    ];
    for (const [patch, param] of cases) {
      const response = await raw("POST", "/v1/chat/completions", { body: JSON.stringify({ ...chatBody, ...patch }) });
      expect(response.status, JSON.stringify(patch)).toBe(400);
      const error = openAiError.parse(JSON.parse(response.body)).error;
      expect(error.param, JSON.stringify(patch)).toBe(param);
      expect(error.type).toBe("invalid_request_error");
    }
    const completion = await raw("POST", "/v1/completions", { body: JSON.stringify({ model: STORIES, prompt: ["a", "b"] }) });
    expect(completion.status).toBe(400);
    expect(openAiError.parse(JSON.parse(completion.body)).error.param).toBe("prompt");
    const embedding = await raw("POST", "/v1/embeddings", { body: JSON.stringify({ model: STORIES, input: [[1, 2, 3]] }) });
    expect(embedding.status).toBe(400);
    const message = await raw("POST", "/v1/messages", {
      body: JSON.stringify({ model: STORIES, messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(message.status).toBe(400);
    expect(anthropicError.parse(JSON.parse(message.body)).error.type).toBe("invalid_request_error");
    await stillAnswers();
  });

  it("refuses another Host (DNS rebinding) and other sites' pages with 403", async () => {
    const rebinding = await raw("GET", "/v1/models", { headers: { Host: `attacker.example:${port}` } });
    expect(rebinding.status).toBe(403);
    const origin = await raw("POST", "/v1/chat/completions", {
      headers: { Origin: "https://attacker.example" },
      body: JSON.stringify(chatBody),
    });
    expect(origin.status).toBe(403);
    const preflight = await raw("OPTIONS", "/v1/chat/completions", { headers: { Origin: "https://attacker.example" } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    await stillAnswers();
  });

  it("a port in use is a clear error, not a crash", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(harness.core.apiServer.startWith({ port: taken })).rejects.toMatchObject({ code: "address_in_use" });
      const state = await harness.core.api.getApiServer();
      expect(state.status.running).toBe(false);
      expect(state.status.error?.code).toBe("address_in_use");
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      const state = await harness.core.apiServer.startWith({ port });
      expect(state.status.baseUrl).toBe(baseUrl);
      // The old listener's kept-alive connections closed with it; let the client's pool see that.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await stillAnswers();
  });
});

describe("disconnects and concurrency", () => {
  it("a client that aborts mid-stream stops its generation at once, and the next request is served", async () => {
    let endedAt = 0;
    const unsubscribe = harness.core.onEvent((event) => {
      if (event.type === "api.request" && event.entry.status === 499) endedAt = performance.now();
    });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      { model: TINY, messages: [{ role: "user", content: "Go on forever." }], max_tokens: 100_000, stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    let abortedAt = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received += 1;
        if (received >= 3) {
          abortedAt = performance.now();
          controller.abort();
        }
      }
    } catch (error) {
      expect((error as Error).name).toMatch(/Abort/);
    }
    expect(abortedAt).toBeGreaterThan(0);
    const ended = await harness
      .waitFor(
        (event): event is Extract<CoreEvent, { type: "api.request" }> =>
          event.type === "api.request" && event.entry.endpoint === "/v1/chat/completions" && event.entry.status === 499,
        10_000,
      )
      .catch(() => null);
    const entry = ended?.entry ?? logEntries().findLast((candidate) => candidate.status === 499);
    expect(entry?.status).toBe(499);
    // Stopped within the next few tokens, long before the context would have filled.
    expect(entry?.finishReason).toBe("aborted");
    expect(entry?.completionTokens ?? 0).toBeLessThan(1000);
    unsubscribe();
    // The engine stops at its next token; the request is over well within a fraction of a second
    // (100 ms plus a token's time, with room for a loaded test machine).
    const stoppedMs = endedAt - abortedAt;
    expect(endedAt).toBeGreaterThan(0);
    expect(stoppedMs).toBeLessThan(400);
    const queue = harness.core.generations;
    expect(queue.running).toBeNull();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
    const next = await openai.chat.completions.create({ model: TINY, messages: [{ role: "user", content: "Hi" }], max_tokens: 3 });
    expect(next.usage?.completion_tokens).toBe(3);
  });

  it("two clients at once both complete with the reply each would get alone", async () => {
    const ask = (seed: number) =>
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the classic max_tokens and seed fields are what local clients send, and Quanta's server must keep honouring them
      openai.chat.completions.create({ model: STORIES, messages: [{ role: "user", content: "A story, please." }], max_tokens: 20, seed });
    const aloneA = await ask(11);
    const aloneB = await ask(22);
    const [a, b] = await Promise.all([ask(11), ask(22)]);
    expect(a.choices[0]?.message.content).toBe(aloneA.choices[0]?.message.content);
    expect(b.choices[0]?.message.content).toBe(aloneB.choices[0]?.message.content);
    const queued = logEntries()
      .filter((entry) => entry.status === 200 && entry.endpoint === "/v1/chat/completions")
      .slice(-2);
    expect(queued.map((entry) => entry.queuedBehind).sort()).toEqual([0, 1]);
  });

  it("requests show on the hardware timeline with their endpoint and model", async () => {
    const history = await harness.core.api.watchHardware({ intervalMs: 1000 });
    await harness.core.api.unwatchHardware();
    const labels = history.markers.map((marker) => marker.label);
    expect(labels.some((label) => label.startsWith(`API /v1/chat/completions · ${STORIES}`))).toBe(true);
    expect(labels.some((label) => /API \/v1\/chat\/completions · stories260K done: \d+ tokens, [\d.]+ tok\/s/.test(label))).toBe(true);
    // The same as data, for the renderer to word in the user's language.
    const started = history.markers.find((marker) => marker.kind === "generation-started" && marker.details?.endpoint !== undefined);
    expect(started?.details).toEqual({ endpoint: "/v1/chat/completions", model: STORIES });
    const ended = history.markers.find(
      (marker) =>
        marker.kind === "generation-ended" && marker.details?.endpoint === "/v1/chat/completions" && marker.details.tokens !== undefined,
    );
    expect(ended?.details).toMatchObject({ endpoint: "/v1/chat/completions", model: STORIES, outcome: "done" });
    expect(ended?.details?.tokens).toBeGreaterThan(0);
    expect(ended?.details?.tokensPerSecond).toBeGreaterThan(0);
  });
});
