// The app:// protocol: serves the built renderer to the window (instead of file://, which
// grants pages extra privileges), with the security headers on every response. Which file a URL
// names is decided by resolveAppPath, the one path resolver headless mode uses too.

import { promises as fs } from "node:fs";
import { protocol, type Session } from "electron";
import { APP_SCHEME } from "../common/app-origin.js";
import { responseHeaders } from "../common/response-headers.js";
import { mimeTypeFor, resolveAppPath } from "../common-node/protocol-path.js";

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    // standard: a real origin (app://quanta) and relative URLs; secure: a secure context.
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

function refuse(status: number, text: string): Response {
  const headers = responseHeaders("text/plain; charset=utf-8");
  if (status === 405) headers.Allow = "GET, HEAD";
  return new Response(text, { status, headers });
}

/** Serves rendererDir under app://quanta/ in the given session (after the app is ready). */
export function serveRenderer(session: Session, rendererDir: string): void {
  session.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return refuse(405, "Method not allowed");
    const file = resolveAppPath(rendererDir, request.url);
    if (file === null) return refuse(404, "Not found");
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      return refuse(404, "Not found");
    }
    return new Response(request.method === "HEAD" ? null : body, { status: 200, headers: responseHeaders(mimeTypeFor(file)) });
  });
}
