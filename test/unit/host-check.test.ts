import { describe, expect, it } from "vitest";
import { isAllowedHost, isAllowedOrigin, isLoopbackHost, isWildcardHost, serverNames } from "../../electron/core/net/host-check.js";

describe("the names a local server answers to", () => {
  const loopback = serverNames("127.0.0.1", 8123);

  it("accepts this machine's loopback names with the bound port", () => {
    for (const host of ["127.0.0.1:8123", "localhost:8123", "LOCALHOST:8123", "[::1]:8123"])
      expect(isAllowedHost(host, loopback), host).toBe(true);
  });

  it("refuses a rebinding page's own name, another port, and anything that is not host[:port]", () => {
    for (const host of [
      "evil.example:8123",
      "evil.example",
      "127.0.0.1:8124",
      "127.0.0.1",
      "localhost.:8123",
      "localhost.evil.example:8123",
      "127.0.0.1:8123@evil.example",
      "user@127.0.0.1:8123",
      "127.0.0.1:8123/",
      " 127.0.0.1:8123",
      "127.0.0.1:08123x",
      "[::1%25eth0]:8123",
      "[0:0:0:0:0:0:0:1]:8123",
      "2130706433:8123",
      "127.1:8123",
      "",
    ]) {
      expect(isAllowedHost(host, loopback), host).toBe(false);
    }
    expect(isAllowedHost(undefined, loopback)).toBe(false);
  });

  it("allows a port-less Host only for port 80", () => {
    expect(isAllowedHost("localhost", serverNames("127.0.0.1", 80))).toBe(true);
    expect(isAllowedHost("localhost", loopback)).toBe(false);
  });

  it("adds the configured address when bound elsewhere, and the interfaces on a wildcard bind", () => {
    const lan = serverNames("192.168.1.20", 9000);
    expect(isAllowedHost("192.168.1.20:9000", lan)).toBe(true);
    expect(isAllowedHost("127.0.0.1:9000", lan)).toBe(true);
    expect(isAllowedHost("192.168.1.21:9000", lan)).toBe(false);
    const wildcard = serverNames("0.0.0.0", 9000, ["10.0.0.5", "fe80::1"]);
    expect(isAllowedHost("10.0.0.5:9000", wildcard)).toBe(true);
    expect(isAllowedHost("[fe80::1]:9000", wildcard)).toBe(true);
    expect(isAllowedHost("0.0.0.0:9000", wildcard)).toBe(false);
    expect(isAllowedHost("[::1]:9000", serverNames("::", 9000))).toBe(true);
  });

  it("accepts only this server's own pages as Origin; a missing Origin is a client that is not a browser", () => {
    expect(isAllowedOrigin(undefined, loopback)).toBe(true);
    expect(isAllowedOrigin("http://127.0.0.1:8123", loopback)).toBe(true);
    expect(isAllowedOrigin("http://localhost:8123", loopback)).toBe(true);
    for (const origin of [
      "null",
      "http://evil.example:8123",
      "https://127.0.0.1:8123",
      "http://127.0.0.1:8124",
      "http://127.0.0.1:8123/",
      "http://a@127.0.0.1:8123",
      "app://quanta",
      "",
    ]) {
      expect(isAllowedOrigin(origin, loopback), origin).toBe(false);
    }
  });

  it("tells loopback and wildcard addresses from the rest", () => {
    for (const host of ["127.0.0.1", "127.3.4.5", "localhost", "::1", "[::1]"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.2", "localhost.evil.example", "128.0.0.1"])
      expect(isLoopbackHost(host), host).toBe(false);
    expect(isWildcardHost("0.0.0.0")).toBe(true);
    expect(isWildcardHost("::")).toBe(true);
    expect(isWildcardHost("127.0.0.1")).toBe(false);
  });
});
