import { describe, expect, it } from "vitest";
import { checkDestination } from "../../electron/core/net/checked-fetch.js";

const trustedOrigin = "http://127.0.0.1:9000";
const resolvesTo = (addresses: string[]) => () => Promise.resolve(addresses);

describe("where a hub redirect may lead", () => {
  it("trusts the hub the user chose, wherever it is, without looking it up", async () => {
    await expect(
      checkDestination(new URL("http://127.0.0.1:9000/cdn/x.gguf"), {
        trustedOrigin,
        resolve: () => Promise.reject(new Error("not looked up")),
      }),
    ).resolves.toBeUndefined();
  });

  it("follows a name only when every address it has is public", async () => {
    await expect(
      checkDestination(new URL("https://cdn.example/x"), { trustedOrigin, resolve: resolvesTo(["93.184.216.34", "2606:2800:220:1::1"]) }),
    ).resolves.toBeUndefined();
    // A name that resolves to this machine or a private network (DNS rebinding, an internal host).
    for (const addresses of [["127.0.0.1"], ["93.184.216.34", "10.0.0.7"], ["169.254.169.254"], ["::1"], []]) {
      await expect(
        checkDestination(new URL("https://cdn.example/x"), { trustedOrigin, resolve: resolvesTo(addresses) }),
        addresses.join(),
      ).rejects.toMatchObject({ code: "hub_unreachable" });
    }
  });

  it("refuses another port of the hub's own machine, other schemes and user names", async () => {
    for (const url of [
      "http://127.0.0.1:9001/",
      "http://localhost:9000/",
      "file:///etc/passwd",
      "ftp://93.184.216.34/",
      "https://user:pw@93.184.216.34/",
    ]) {
      await expect(checkDestination(new URL(url), { trustedOrigin, resolve: resolvesTo(["127.0.0.1"]) }), url).rejects.toMatchObject({
        code: "hub_unreachable",
      });
    }
  });
});
