// `quanta api` as a person runs it: the built CLI in a child process, the API alone, the
// address and key it prints, and a request made with them; bad flags are a usage error.

import { spawn, type ChildProcessByStdio } from "node:child_process";
import { promises as fs } from "node:fs";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_ENTRY, TEST_MODELS, tempDir } from "../support/paths.js";

let home: string;
const KEY = "cli-key-0123456789abcdef";

beforeAll(async () => {
  home = await tempDir("api-cli-home");
});

afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

function quanta(args: string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, QUANTA_HOME: home, QUANTA_MODELS: TEST_MODELS },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("quanta api", () => {
  it("serves the API alone on the address it prints, with the key it was given", async () => {
    const child = quanta(["api", "--api-port", "0", "--api-key", KEY]);
    try {
      const output = await new Promise<string>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes("API key:")) resolve(text);
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code}: ${text}`)));
      });
      const url = /serving at (http:\/\/\S+\/v1)/.exec(output)?.[1];
      expect(url).toBeDefined();
      expect(output).toContain(`API key: ${KEY}`);
      const refused = await fetch(`${url}/models`);
      expect(refused.status).toBe(401);
      const models = await fetch(`${url}/models`, { headers: { Authorization: `Bearer ${KEY}` } });
      expect(models.status).toBe(200);
      const body = (await models.json()) as { data: Array<{ id: string }> };
      expect(body.data.map((model) => model.id)).toContain("stories260K");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("a bad --api-port is a usage error", async () => {
    const child = quanta(["api", "--api-port", "eighty"]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--api-port must be a whole number");
  });
});
