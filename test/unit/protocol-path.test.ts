// The path-traversal guard in front of app:// (and `quanta serve`), and the MIME types it
// serves with. Pure functions: no Electron needed.

import path from "node:path";
import { describe, expect, it } from "vitest";
import { isAppUrl } from "../../electron/common/app-origin.js";
import { mimeTypeFor, resolveAppPath } from "../../electron/common-node/protocol-path.js";

const ROOT = path.resolve("/srv/quanta/dist/renderer");
const inRoot = (...segments: string[]) => path.join(ROOT, ...segments);

function isInside(root: string, file: string, platformPath: path.PlatformPath = path): boolean {
  const relative = platformPath.relative(root, file);
  return relative !== "" && !relative.startsWith("..") && !platformPath.isAbsolute(relative);
}

describe("resolveAppPath", () => {
  it("serves index.html for the root, with or without a slash", () => {
    expect(resolveAppPath(ROOT, "app://quanta/")).toBe(inRoot("index.html"));
    expect(resolveAppPath(ROOT, "app://quanta")).toBe(inRoot("index.html"));
    expect(resolveAppPath(ROOT, "/")).toBe(inRoot("index.html"));
  });

  it("maps full app:// URLs and request targets to files inside the root", () => {
    expect(resolveAppPath(ROOT, "app://quanta/assets/index-abc123.js")).toBe(inRoot("assets", "index-abc123.js"));
    expect(resolveAppPath(ROOT, "/assets/index.css")).toBe(inRoot("assets", "index.css"));
    expect(resolveAppPath(ROOT, "/index.html?lang=zh#chat")).toBe(inRoot("index.html"));
    expect(resolveAppPath(ROOT, "/fonts/Noto%20Sans.woff2")).toBe(inRoot("fonts", "Noto Sans.woff2"));
    expect(resolveAppPath(ROOT, "/%E4%B8%AD%E6%96%87.txt")).toBe(inRoot("中文.txt"));
  });

  it("decodes once: a double-encoded dot-dot is a literal name inside the root", () => {
    expect(resolveAppPath(ROOT, "/%252e%252e/secret")).toBe(inRoot("%2e%2e", "secret"));
  });

  it("refuses other hosts and schemes", () => {
    expect(resolveAppPath(ROOT, "app://evil/index.html")).toBeNull();
    expect(resolveAppPath(ROOT, "file:///etc/passwd")).toBeNull();
    expect(resolveAppPath(ROOT, "http://127.0.0.1:8080/index.html")).toBeNull();
    // A scheme-relative target names another host.
    expect(resolveAppPath(ROOT, "//etc/passwd")).toBeNull();
  });

  it("refuses encoded traversal, backslashes, null bytes and drive letters", () => {
    const refused = [
      "/%2e%2e%2f%2e%2e%2fetc/passwd",
      "/%2E%2E%2Fsecret",
      "/assets/..%2f..%2fsecret",
      "/..%5c..%5csecret",
      "/assets%5c..%5c..%5csecret",
      "app://quanta/..\\..\\secret",
      "/%2fetc%2fpasswd",
      "/assets//index.js",
      "/index.html%00.png",
      "/%00",
      "/C:/Windows/win.ini",
      "/C%3a%5cWindows%5cwin.ini",
      "/index.html::$DATA",
      "/%E0%A4%A",
      "/assets/",
      "/NUL",
      "/assets/con.txt",
    ];
    for (const url of refused) expect(resolveAppPath(ROOT, url), url).toBeNull();
  });

  it("never resolves outside the root, whatever the URL", () => {
    const attempts = [
      "/../secret",
      "/../../../../etc/passwd",
      "/%2e%2e/secret",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/.%2e/secret",
      "/assets/../../secret",
      "app://quanta/../../etc/passwd",
      "/./index.html",
      "/%2e/index.html",
      "/etc/passwd",
      "/%2Fetc/passwd",
    ];
    for (const url of attempts) {
      const file = resolveAppPath(ROOT, url);
      if (file !== null) expect(isInside(ROOT, file), `${url} -> ${file}`).toBe(true);
    }
  });

  it("keeps Windows paths inside the root too", () => {
    const root = "C:\\Program Files\\Quanta\\resources\\app.asar\\dist\\renderer";
    expect(resolveAppPath(root, "/assets/app.js", path.win32)).toBe(`${root}\\assets\\app.js`);
    for (const url of ["/..%5c..%5cwin.ini", "/C:/Windows/win.ini", "/%5c%5cserver%5cshare", "/D:%5cx", "/AUX", "/com1.js"]) {
      expect(resolveAppPath(root, url, path.win32), url).toBeNull();
    }
    for (const url of ["/../../win.ini", "/%2e%2e/%2e%2e/win.ini", "/assets/../../x"]) {
      const file = resolveAppPath(root, url, path.win32);
      if (file !== null) expect(isInside(root, file, path.win32), `${url} -> ${file}`).toBe(true);
    }
  });
});

describe("isAppUrl", () => {
  it("accepts only app://quanta", () => {
    expect(isAppUrl("app://quanta/index.html")).toBe(true);
    expect(isAppUrl("app://quanta")).toBe(true);
    expect(isAppUrl("app://quanta.evil/")).toBe(false);
    expect(isAppUrl("app://evil/")).toBe(false);
    expect(isAppUrl("https://quanta/")).toBe(false);
    expect(isAppUrl("not a url")).toBe(false);
  });
});

describe("mimeTypeFor", () => {
  it("names the types the renderer build produces", () => {
    expect(mimeTypeFor("/r/index.html")).toBe("text/html; charset=utf-8");
    expect(mimeTypeFor("/r/assets/index-abc.js")).toBe("text/javascript; charset=utf-8");
    expect(mimeTypeFor("/r/assets/index-abc.css")).toBe("text/css; charset=utf-8");
    expect(mimeTypeFor("/r/assets/index-abc.js.map")).toBe("application/json; charset=utf-8");
    expect(mimeTypeFor("/r/assets/logo.svg")).toBe("image/svg+xml");
    expect(mimeTypeFor("/r/assets/icon.PNG")).toBe("image/png");
    expect(mimeTypeFor("/r/assets/font.woff2")).toBe("font/woff2");
    expect(mimeTypeFor("/r/assets/module.wasm")).toBe("application/wasm");
  });

  it("sends unknown and extensionless files as opaque bytes", () => {
    expect(mimeTypeFor("/r/data.gguf")).toBe("application/octet-stream");
    expect(mimeTypeFor("/r/LICENSE")).toBe("application/octet-stream");
  });
});
