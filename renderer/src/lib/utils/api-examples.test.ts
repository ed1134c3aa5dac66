// The Server view's examples: shell quoting that holds whatever the key is, and the clients' code filled in.

import { describe, expect, it } from "vitest";
import { curlExample, javascriptExample, pythonExample, shellQuote } from "./api-examples.js";

describe("API examples", () => {
  it("quotes for the shell whatever the key holds", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const curl = curlExample({ baseUrl: "http://127.0.0.1:8150/v1", apiKey: "k'ey", model: "stories260K" });
    expect(curl).toContain(`'Authorization: Bearer k'\\''ey'`);
    expect(curl.startsWith("curl 'http://127.0.0.1:8150/v1/chat/completions'")).toBe(true);
  });

  it("leaves the key header out when none is needed, and fills the clients' examples", () => {
    const input = { baseUrl: "http://127.0.0.1:8150/v1", apiKey: null, model: "models/qwen" };
    expect(curlExample(input)).not.toContain("Authorization");
    expect(pythonExample(input)).toContain('base_url="http://127.0.0.1:8150/v1"');
    expect(pythonExample(input)).toContain('model="models/qwen"');
    expect(javascriptExample(input)).toContain('baseURL: "http://127.0.0.1:8150/v1"');
  });
});
