// Ready-to-copy examples for the Server view: curl, Python `openai` and JavaScript `openai`,
// filled with the server's real address, key and a model id. Pure, so a test can run them.
/** A single-quoted shell word: safe whatever the text holds. */
export function shellQuote(text) {
    return `'${text.replaceAll("'", `'\\''`)}'`;
}
export function curlExample({ baseUrl, apiKey, model }) {
    const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] });
    const lines = [`curl ${shellQuote(`${baseUrl}/chat/completions`)}`, `-H 'Content-Type: application/json'`];
    if (apiKey !== null)
        lines.push(`-H ${shellQuote(`Authorization: Bearer ${apiKey}`)}`);
    lines.push(`-d ${shellQuote(body)}`);
    return lines.join(" \\\n  ");
}
export function pythonExample({ baseUrl, apiKey, model }) {
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
export function javascriptExample({ baseUrl, apiKey, model }) {
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
//# sourceMappingURL=api-examples.js.map