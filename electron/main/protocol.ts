// The app:// protocol: serves the built renderer to the window (instead of file://, which
// grants pages extra privileges), with the app's CSP on every response. Which file a URL
// names is decided by resolveAppPath, the one path resolver headless mode uses too.

import { promises as fs } from "node:fs";
import { protocol, type Session } from "electron";
import { APP_SCHEME, mimeTypeFor, resolveAppPath } from "./protocol-path.js";
import { CONTENT_SECURITY_POLICY } from "./security-policy.js";

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    // standard: a real origin (app://quanta) and relative URLs; secure: a secure context.
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

function headers(contentType: string): Record<string, string> {
  return {
    "Content-Type": contentType,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
  };
}

function refuse(status: number, text: string): Response {
  return new Response(text, { status, headers: headers("text/plain; charset=utf-8") });
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
    return new Response(request.method === "HEAD" ? null : body, { status: 200, headers: headers(mimeTypeFor(file)) });
  });
}
