// The chat's engine starts with one libuv thread-pool thread (node-llama-cpp's decodes then
// all come from one thread), the Lab's engines with libuv's default, and a size the person
// set themselves is left alone. Real child processes, started as the core starts engines.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forkEngine, type EngineRole } from "../../electron/core/engine-client/engine-process.js";
import { tempDir } from "../support/paths.js";

let dir: string;
let entry: string;

beforeAll(async () => {
  dir = await tempDir("quanta-engine-env-");
  entry = path.join(dir, "report-pool.mjs");
  // Reports the pool size its environment gives libuv, then exits.
  await fs.writeFile(entry, 'process.send(process.env.UV_THREADPOOL_SIZE ?? "default", () => process.exit(0));\n');
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function poolSizeOf(role: EngineRole, env: NodeJS.ProcessEnv): Promise<unknown> {
  const { UV_THREADPOOL_SIZE: _ignored, ...rest } = process.env;
  const child = forkEngine(entry, { ...rest, ...env })(role);
  return new Promise((resolve) => child.onMessage(resolve));
}

describe("engine environment", () => {
  it("gives the chat's engine one pool thread and the Lab's libuv's default", async () => {
    expect(await poolSizeOf("chat", {})).toBe("1");
    expect(await poolSizeOf("lab", {})).toBe("default");
  });

  it("keeps a pool size set in the environment", async () => {
    expect(await poolSizeOf("chat", { UV_THREADPOOL_SIZE: "3" })).toBe("3");
    expect(await poolSizeOf("lab", { UV_THREADPOOL_SIZE: "3" })).toBe("3");
  });
});
