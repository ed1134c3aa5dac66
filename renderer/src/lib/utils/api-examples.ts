// Ready-to-copy examples for the Server view: curl, Python `openai` and JavaScript `openai`,
// filled with the server's real address, key and a model id. Pure, so a test can run them.

export interface ExampleInput {
  /** e.g. http://127.0.0.1:8150/v1 */
  baseUrl: string;
  /** null when the server asks for no key (clients still need a placeholder). */
  apiKey: string | null;
  model: string;
}

/** A single-quoted shell word: safe whatever the text holds. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function curlExample({ baseUrl, apiKey, model }: ExampleInput): string {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] });
  const lines = [`curl ${shellQuote(`${baseUrl}/chat/completions`)}`, `-H 'Content-Type: application/json'`];
  if (apiKey !== null) lines.push(`-H ${shellQuote(`Authorization: Bearer ${apiKey}`)}`);
  lines.push(`-d ${shellQuote(body)}`);
  return lines.join(" \\\n  ");
}

export function pythonExample({ baseUrl, apiKey, model }: ExampleInput): string {
  return [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(baseUrl)}, api_key=${JSON.stringify(apiKey ?? "not-needed")})`,
    "stream = client.chat.completions.create(",
    `    model=${JSON.stringify(model)},`,
    '    messages=[{"role": "user", "content": "Hello!"}],',
    "    stream=True,",
    ")",
    "for chunk in stream:",
    '    print(chunk.choices[0].delta.content or "", end="", flush=True)',
  ].join("\n");
}

export function javascriptExample({ baseUrl, apiKey, model }: ExampleInput): string {
  return [
    'import OpenAI from "openai";',
    "",
    `const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl)}, apiKey: ${JSON.stringify(apiKey ?? "not-needed")} });`,
    "const stream = await client.chat.completions.create({",
    `  model: ${JSON.stringify(model)},`,
    '  messages: [{ role: "user", content: "Hello!" }],',
    "  stream: true,",
    "});",
    'for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");',
  ].join("\n");
}
