// The Electron shell's security policy, decided without Electron: navigation, window.open,
// redirects, permissions, downloads and web requests (main/security-decisions.ts), and the one
// gate every path that opens a link in the browser goes through (common/external-link.ts).

import { describe, expect, it } from "vitest";
import { APP_ENTRY_URL, APP_ORIGIN, isAppUrl } from "../../electron/common/app-origin.js";
import { checkHttpsLink, EXTERNAL_OPEN_INTERVAL_MS, ExternalLinkGate, httpsLinkOrNull } from "../../electron/common/external-link.js";
import { CONTENT_SECURITY_POLICY, responseHeaders, SECURITY_HEADERS } from "../../electron/common/response-headers.js";
import {
  downloadAllowed,
  mainFrameNavigation,
  permissionAllowed,
  redirectNavigation,
  requestBlocked,
  subframeNavigation,
  windowOpenRequest,
} from "../../electron/main/security-decisions.js";

// What a reply, a page or an attacker may put in a link.
const HOSTILE_LINKS = [
  "http://example.org/",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  "file:///etc/passwd",
  "data:text/html,<script>alert(1)</script>",
  "vbscript:msgbox(1)",
  "app://quanta/index.html",
  "quanta://x",
  "ms-msdt:/id PCWDiagnostic",
  "https://user:pass@example.org/",
  "https://user@example.org/",
  "not a url",
  "//example.org/",
  "",
];

describe("the https-link rule", () => {
  it("keeps https links, normalized, and refuses every other scheme, credentials and garbage", () => {
    expect(checkHttpsLink("https://example.org/a?b=c#d")).toEqual({ ok: true, url: "https://example.org/a?b=c#d" });
    expect(httpsLinkOrNull("HTTPS://Example.ORG")).toBe("https://example.org/");
    expect(httpsLinkOrNull(" https://example.org/x ")).toBe("https://example.org/x");
    for (const link of HOSTILE_LINKS) expect(httpsLinkOrNull(link), link).toBeNull();
    expect(checkHttpsLink("http://example.org")).toEqual({ ok: false, reason: "not_https" });
    expect(checkHttpsLink("https://u:p@example.org")).toEqual({ ok: false, reason: "credentials" });
    expect(checkHttpsLink("nonsense")).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("the link gate", () => {
  it("opens https links asked for by the app's page, one per interval, whichever path asks", () => {
    let now = 10_000;
    const gate = new ExternalLinkGate(() => now);
    expect(gate.decide("https://example.org/a", true)).toEqual({ open: true, url: "https://example.org/a" });
    // A burst (a page clicking links in a loop, a navigation and an RPC call together) opens one tab.
    now += 10;
    expect(gate.decide("https://example.org/b", true)).toEqual({ open: false, reason: "too_soon" });
    now += EXTERNAL_OPEN_INTERVAL_MS - 11;
    expect(gate.decide("https://example.org/c", true)).toEqual({ open: false, reason: "too_soon" });
    now += 1;
    expect(gate.decide("https://example.org/d", true)).toEqual({ open: true, url: "https://example.org/d" });
  });

  it("refuses requests from anywhere but the app's page, and links that are not https, without using up the interval", () => {
    let now = 0;
    const gate = new ExternalLinkGate(() => now);
    expect(gate.decide("https://example.org/", false)).toEqual({ open: false, reason: "not_from_app" });
    for (const link of HOSTILE_LINKS) expect(gate.decide(link, true).open, link).toBe(false);
    // Refusals did not count: an allowed link right after them opens.
    expect(gate.decide("https://example.org/", true).open).toBe(true);
    now += 1;
    expect(gate.decide("https://example.org/", true)).toEqual({ open: false, reason: "too_soon" });
  });
});

describe("the Electron shell's decisions", () => {
  it("keeps the main frame inside app://quanta and sends links from the app's page to the browser", () => {
    expect(mainFrameNavigation(`${APP_ORIGIN}/index.html#/chat`, true)).toBe("allow");
    expect(mainFrameNavigation(`${APP_ORIGIN}/other.html`, false)).toBe("allow");
    expect(mainFrameNavigation("https://example.org/", true)).toBe("open_in_browser");
    // Not from the app's own page (a frame that is gone, another origin): nothing happens.
    expect(mainFrameNavigation("https://example.org/", false)).toBe("deny");
    for (const url of ["file:///etc/passwd", "app://evil/index.html", "app://quanta.evil.example/", "http://127.0.0.1:5173/"]) {
      expect(mainFrameNavigation(url, false), url).toBe("deny");
    }
    // A non-https URL from the app's page still only reaches the gate, which refuses it.
    expect(mainFrameNavigation("javascript:alert(1)", true)).toBe("open_in_browser");
    expect(new ExternalLinkGate().decide("javascript:alert(1)", true).open).toBe(false);
  });

  it("lets no subframe or redirect leave the app", () => {
    expect(subframeNavigation("https://example.org/", false)).toBe("deny");
    expect(subframeNavigation(`${APP_ORIGIN}/frame.html`, false)).toBe("allow");
    // The main frame's navigations are will-navigate's to decide.
    expect(subframeNavigation("https://example.org/", true)).toBe("allow");
    expect(redirectNavigation("https://example.org/")).toBe("deny");
    expect(redirectNavigation("file:///etc/passwd")).toBe("deny");
    expect(redirectNavigation(`${APP_ORIGIN}/index.html`)).toBe("allow");
  });

  it("never opens a new window: window.open from the app's page goes to the browser, from anything else nowhere", () => {
    expect(windowOpenRequest(APP_ENTRY_URL)).toBe("open_in_browser");
    expect(windowOpenRequest("https://example.org/")).toBe("deny");
    expect(windowOpenRequest("about:blank")).toBe("deny");
    expect(windowOpenRequest("")).toBe("deny");
  });

  it("grants no permission", () => {
    for (const permission of ["media", "notifications", "geolocation", "clipboard-read", "hid", "serial", "usb", "fullscreen", "openExternal", ""]) {
      expect(permissionAllowed(permission), permission).toBe(false);
    }
  });

  it("allows only downloads of the page's own exports", () => {
    expect(downloadAllowed(`blob:${APP_ORIGIN}/3f1c2a`)).toBe(true);
    for (const url of ["https://example.org/model.gguf", "blob:https://example.org/3f1c2a", "blob:app://quanta.evil/x", "data:text/csv,a", `${APP_ORIGIN}/index.html`]) {
      expect(downloadAllowed(url), url).toBe(false);
    }
  });

  it("blocks every network and file request of web content, and none the main process makes", () => {
    for (const url of ["https://example.org/", "http://127.0.0.1:1/", "ws://127.0.0.1/", "wss://example.org/", "ftp://example.org/", "file:///etc/passwd", "HTTPS://EXAMPLE.ORG/"]) {
      expect(requestBlocked(url, true), url).toBe(true);
      expect(requestBlocked(url, false), url).toBe(false);
    }
    for (const url of [`${APP_ORIGIN}/assets/app.js`, `blob:${APP_ORIGIN}/1`, "data:image/png;base64,AA=="]) {
      expect(requestBlocked(url, true), url).toBe(false);
    }
  });

  it("recognizes the app's own pages only", () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    for (const url of ["app://quanta.evil/", "app://evil/", "https://quanta/", "quanta", "app:quanta"]) expect(isAppUrl(url), url).toBe(false);
  });
});

describe("the response headers", () => {
  it("are one set with the CSP, sent with or without a body type", () => {
    expect(SECURITY_HEADERS["Content-Security-Policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect(responseHeaders()).toEqual(SECURITY_HEADERS);
    expect(responseHeaders("text/plain")).toEqual({ "Content-Type": "text/plain", ...SECURITY_HEADERS });
    expect(Object.keys(SECURITY_HEADERS).sort()).toEqual(
      ["Cache-Control", "Content-Security-Policy", "Cross-Origin-Opener-Policy", "Referrer-Policy", "X-Content-Type-Options"].sort(),
    );
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });
});
