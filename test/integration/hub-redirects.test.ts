// What the hub may aim Quanta at. The hub the user typed (here a local one, as
// QUANTA_HUB_URL) is trusted; a redirect from it to anywhere not public (another service on
// this machine, a private network, a cloud metadata address) is refused before any request
// reaches it, by the core's hub client and by the engine reading a header for "will it fit".

import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreEvent } from "../../electron/contract/types.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { tempDir } from "../support/paths.js";

let models: string;
let harness: CoreHarness;
let hub: http.Server;
let internal: http.Server;
let hubUrl: string;
let internalUrl: string;
/** Requests that reached the service the hub tried to aim Quanta at. */
const reachedInternal: string[] = [];
/** Where the hub's next answers redirect to. */
let redirectTo = "";
const previousHub = process.env.QUANTA_HUB_URL;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  models = await tempDir("redirect-models");
  internal = http.createServer((request, response) => {
    reachedInternal.push(request.url ?? "");
    response.writeHead(200, { "Content-Type": "application/json" }).end("[]");
  });
  internalUrl = await listen(internal);
  hub = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://hub");
    if (url.pathname === "/api/models/test-org/Secret-GGUF/tree/main") {
      response
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify([{ type: "file", path: "secret-Q8_0.gguf", size: 1000 }]));
      return;
    }
    // Search and file downloads redirect wherever the test says.
    response.writeHead(302, { Location: `${redirectTo}${url.pathname}${url.search}` }).end();
  });
  hubUrl = await listen(hub);
  process.env.QUANTA_HUB_URL = hubUrl;
  harness = await startCore([models]);
  await harness.waitForEngine("idle");
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  await new Promise((resolve) => hub?.close(resolve));
  await new Promise((resolve) => internal?.close(resolve));
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  if (previousHub === undefined) delete process.env.QUANTA_HUB_URL;
  else process.env.QUANTA_HUB_URL = previousHub;
  await fs.rm(models, { recursive: true, force: true });
});

describe("redirects from the hub", () => {
  it("refuses a search redirected to another service on this machine, before it is reached", async () => {
    redirectTo = internalUrl;
    await expect(harness.core.api.searchHub({ query: "llama" })).rejects.toMatchObject({
      code: "hub_unreachable",
      message: expect.stringMatching(/loopback/) as unknown,
    });
    expect(reachedInternal).toEqual([]);
  });

  it("refuses a model file redirected to a link-local or private address for the fit estimate", async () => {
    for (const target of [internalUrl, "http://169.254.169.254", "http://[::ffff:10.0.0.1]:8080", "http://192.168.1.1"]) {
      redirectTo = target;
      await expect(
        harness.core.api.estimateHubFit({ repo: "test-org/Secret-GGUF", path: "secret-Q8_0.gguf", contextSize: 512 }),
        target,
      ).rejects.toMatchObject({
        code: "hub_unreachable",
      });
    }
    expect(reachedInternal).toEqual([]);
  });

  it("refuses a download redirected to another service on this machine, without retrying it", async () => {
    redirectTo = internalUrl;
    const job = await harness.core.api.startDownload({ repo: "test-org/Secret-GGUF", path: "secret-Q8_0.gguf" });
    const failed = await harness.waitFor(
      (event): event is Extract<CoreEvent, { type: "download" }> =>
        event.type === "download" && event.job.id === job.id && (event.job.status === "failed" || event.job.status === "done"),
    );
    expect(failed.job.status).toBe("failed");
    expect(failed.job.error).toMatchObject({ code: "hub_unreachable", message: expect.stringMatching(/loopback/) as unknown });
    expect(reachedInternal).toEqual([]);
  });

  it("the engine follows no redirect when it reads a header from the network", async () => {
    redirectTo = internalUrl;
    const engine = await harness.core.engine.api();
    await expect(
      engine.estimateFit({ url: `${hubUrl}/test-org/Secret-GGUF/resolve/main/secret-Q8_0.gguf`, contextSize: 512 }),
    ).rejects.toMatchObject({ code: "model_invalid" });
    expect(reachedInternal).toEqual([]);
  });
});
