// Every response `quanta serve` sends carries the security headers, whatever its status: the
// 200s, and the 404, 405 and 401 an attacker's requests get. Sent as raw requests (the target
// as written, forged Origin and methods), against the real server.

import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECURITY_HEADERS } from "../../electron/common/response-headers.js";
import { tempDir } from "../support/paths.js";
import { serveApp, type ServedApp } from "../support/serve.js";

let app: ServedApp | undefined;
let base: URL;
let token: string;

beforeAll(async () => {
  const served = await serveApp([await tempDir("headers-models")]);
  app = served;
  base = new URL(served.url);
  token = base.searchParams.get("token") ?? "";
});

afterAll(async () => {
  await app?.stop();
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
}

/** One request with the target exactly as given (no client normalization). */
function rawRequest(method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: base.hostname, port: base.port, method, path: target, headers, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    request.on("error", reject);
    request.end();
  });
}

function expectSecurityHeaders(response: RawResponse, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers[name.toLowerCase()], `${what}: ${name}`).toBe(value);
  }
}

const upgrade = (extra: Record<string, string> = {}) => ({
  Connection: "Upgrade",
  Upgrade: "websocket",
  "Sec-WebSocket-Version": "13",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  ...extra,
});

describe("quanta serve's response headers", () => {
  it("are on the app's files (200)", async () => {
    for (const [method, target] of [
      ["GET", "/"],
      ["HEAD", "/"],
      ["GET", "/index.html"],
    ] as const) {
      const response = await rawRequest(method, target);
      expect(response.status, `${method} ${target}`).toBe(200);
      expectSecurityHeaders(response, `${method} ${target}`);
    }
  });

  it("are on every 404, path escapes included", async () => {
    for (const target of [
      "/no-such-file.js",
      "/..%2f..%2fpackage.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "//etc/passwd",
      "/..\\..\\package.json",
      "/%c0%ae%c0%ae/package.json",
      "/index.html%00.js",
      "/assets/",
      "/rpc",
    ]) {
      const response = await rawRequest("GET", target);
      expect(response.status, target).toBe(404);
      expectSecurityHeaders(response, target);
    }
  });

  it("are on every 405", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      const response = await rawRequest(method, "/");
      expect(response.status, method).toBe(405);
      expect(response.headers.allow).toBe("GET, HEAD");
      expectSecurityHeaders(response, method);
    }
  });

  it("are on the 401 to a WebSocket upgrade without the token, and the 403 to one from another page", async () => {
    for (const [target, headers, status] of [
      ["/rpc", upgrade(), 401],
      ["/rpc?token=wrong", upgrade(), 401],
      // Another site's page is refused before the token is even looked at.
      [`/rpc?token=${token}`, upgrade({ Origin: "http://evil.example" }), 403],
      [`/other?token=${token}`, upgrade(), 401],
    ] as const) {
      const response = await rawRequest("GET", target, headers);
      expect(response.status, target).toBe(status);
      expectSecurityHeaders(response, `upgrade ${target}`);
    }
  });
});
