// Maps a request for the built renderer (app://quanta/... in the desktop app, a request
// target such as "/assets/x.js" under `quanta serve`) to a file inside the renderer folder,
// or to null. Node only (file paths), no electron import: headless mode and the unit tests
// use it too.

import path from "node:path";
import { APP_HOST, APP_ORIGIN, APP_SCHEME } from "../common/app-origin.js";

// Windows opens these as devices in any folder ("C:\app\NUL" is the null device).
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * The file a request names, or null when it names nothing we serve. "/" is index.html.
 * Refused: another host or scheme, undecodable escapes, null bytes, backslashes, colons
 * (drive letters, NTFS streams), "." and ".." segments (after decoding, so "%2e%2e%2f" is
 * caught), empty segments, Windows device names, folders, and anything that would resolve
 * outside rootDir. platformPath is for tests of the Windows rules on other systems.
 */
export function resolveAppPath(
  rootDir: string,
  requestUrl: string,
  platformPath: path.PlatformPath = path,
): string | null {
  let url: URL;
  try {
    // A request target ("/x?y") is read against the app's origin; a full URL must be ours.
    url = new URL(requestUrl, `${APP_ORIGIN}/`);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;

  let decoded: string;
  try {
    // Decoded once: "%252e" stays the literal name "%2e", which is inside the root.
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (decoded === "/" || decoded === "") decoded = "/index.html";
  if (!decoded.startsWith("/") || decoded.endsWith("/")) return null;
  if (/[\0\\:]/.test(decoded)) return null;

  const segments = decoded.slice(1).split("/");
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") return null;
    if (WINDOWS_DEVICE_NAME.test(segment)) return null;
  }

  const root = platformPath.resolve(rootDir);
  const resolved = platformPath.resolve(root, ...segments);
  // The checks above already keep the path inside; this one holds whatever they missed.
  const relative = platformPath.relative(root, resolved);
  if (relative === "" || relative.startsWith("..") || platformPath.isAbsolute(relative)) return null;
  return resolved;
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wasm": "application/wasm",
};

/** The Content-Type for a served file; unknown types are sent as opaque bytes (never sniffed). */
export function mimeTypeFor(filePath: string): string {
  return MIME_TYPES[path.extname(filePath).toLowerCase()] ?? "application/octet-stream";
}
