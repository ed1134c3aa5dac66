import { describe, expect, it } from "vitest";
import { addressKind } from "../../electron/core/net/address-kind.js";

describe("what kind of place an address is", () => {
  it("sorts IPv4 addresses", () => {
    const cases: Record<string, ReturnType<typeof addressKind>> = {
      "8.8.8.8": "public",
      "127.0.0.1": "loopback",
      "127.255.0.9": "loopback",
      "10.1.2.3": "private",
      "172.16.0.1": "private",
      "172.31.255.255": "private",
      "172.32.0.1": "public",
      "192.168.0.1": "private",
      "100.64.0.1": "private",
      "169.254.169.254": "link-local",
      "0.0.0.0": "unspecified",
      "224.0.0.1": "multicast",
      "255.255.255.255": "reserved",
      "256.1.1.1": null,
      "1.2.3": null,
      "example.com": null,
    };
    for (const [address, kind] of Object.entries(cases)) expect(addressKind(address), address).toBe(kind);
  });

  it("sorts IPv6 addresses, IPv4 inside IPv6 as its IPv4 address", () => {
    const cases: Record<string, ReturnType<typeof addressKind>> = {
      "2606:4700::1111": "public",
      "::1": "loopback",
      "[::1]": "loopback",
      "0:0:0:0:0:0:0:1": "loopback",
      "::": "unspecified",
      "fe80::1%eth0": "link-local",
      "fd00::1": "private",
      "fc00::1": "private",
      "ff02::1": "multicast",
      "::ffff:127.0.0.1": "loopback",
      "::ffff:7f00:1": "loopback",
      "::ffff:169.254.169.254": "link-local",
      "::ffff:8.8.8.8": "public",
      "64:ff9b::10.0.0.1": "private",
      "1::2::3": null,
      "12345::1": null,
    };
    for (const [address, kind] of Object.entries(cases)) expect(addressKind(address), address).toBe(kind);
  });
});
