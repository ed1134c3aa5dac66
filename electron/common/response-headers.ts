// The security headers of every response Quanta serves (app:// in the desktop app, HTTP under
// `quanta serve`), whatever its status: a 404 or 401 page is a page too. One definition, so
// the two servers cannot drift apart again.

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  // The files come from the local disk; a stored copy saves nothing and could outlive an update.
  "Cache-Control": "no-store",
});

/** The headers of a response with a body of contentType (or none): the security set plus its type. */
export function responseHeaders(contentType?: string): Record<string, string> {
  return contentType === undefined ? { ...SECURITY_HEADERS } : { "Content-Type": contentType, ...SECURITY_HEADERS };
}
