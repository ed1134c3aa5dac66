// The local API's pure parts: which Origins pass, the model ids clients type, settings that
// persist across restarts. (Host headers follow core/net/host-check.ts, tested on its own.)

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { apiModelIds } from "../../electron/contract/api-model-ids.js";
import { isAllowedOrigin } from "../../electron/core/api-server/cors.js";
import { apiSettingsFile, readApiSettings, writeApiSettings } from "../../electron/core/api-server/settings.js";

describe("CORS", () => {
  it("lets a page's origin in only when CORS is on and lists it", () => {
    expect(isAllowedOrigin("https://app.example", { enabled: false, origins: ["https://app.example"] })).toBe(false);
    expect(isAllowedOrigin("https://app.example", { enabled: true, origins: ["https://app.example"] })).toBe(true);
    expect(isAllowedOrigin("https://other.example", { enabled: true, origins: ["https://app.example"] })).toBe(false);
    expect(isAllowedOrigin("https://other.example", { enabled: true, origins: ["*"] })).toBe(true);
  });
});

describe("API model ids", () => {
  it("is the file name without .gguf, made unique by the folder when names collide", () => {
    const ids = apiModelIds([
      { id: "a", fileName: "stories260K.gguf", folder: "/home/me/models" },
      { id: "b", fileName: "qwen-Q4_K_M.gguf", folder: "/home/me/models" },
      { id: "c", fileName: "qwen-Q4_K_M.gguf", folder: "/mnt/big/lmstudio" },
      { id: "d", fileName: "big-00001-of-00003.gguf", folder: "/m" },
    ]);
    expect(ids.get("a")).toBe("stories260K");
    expect(ids.get("b")).toBe("models/qwen-Q4_K_M");
    expect(ids.get("c")).toBe("lmstudio/qwen-Q4_K_M");
    expect(ids.get("d")).toBe("big");
    expect(new Set(ids.values()).size).toBe(4);
  });

  it("stays unique when the folders share a name too", () => {
    const ids = apiModelIds([
      { id: "1111111111111111", fileName: "m.gguf", folder: "/a/models" },
      { id: "2222222222222222", fileName: "m.gguf", folder: "/b/models" },
    ]);
    expect(new Set(ids.values()).size).toBe(2);
  });
});

describe("API server settings", () => {
  it("makes a key once, keeps it, and keeps what was saved across restarts", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "quanta-api-settings-"));
    try {
      const file = apiSettingsFile(home);
      const first = await readApiSettings(file);
      expect(first.port).toBe(8150);
      expect(first.host).toBe("127.0.0.1");
      expect(first.apiKey.length).toBeGreaterThanOrEqual(32);
      const again = await readApiSettings(file);
      expect(again.apiKey).toBe(first.apiKey);
      await writeApiSettings(file, { ...first, port: 9000, cors: { enabled: true, origins: ["https://a.example"] } });
      expect(await readApiSettings(file)).toMatchObject({ port: 9000, cors: { enabled: true, origins: ["https://a.example"] } });
      // A damaged file is set aside, not lost, and the defaults come back.
      await fs.writeFile(file, "{ not json");
      const fresh = await readApiSettings(file);
      expect(fresh.port).toBe(8150);
      expect((await fs.readdir(home)).some((name) => name.includes(".damaged-"))).toBe(true);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
