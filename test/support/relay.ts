// A TCP relay in front of a local server that a test can cut and restore, as a dropped
// network or a sleeping laptop would: cut() ends every open connection and refuses new ones
// until restore(). The browser talks to the relay's port and cannot tell it from the server.
// Like a reverse proxy, it names the server in what the browser sends (its own address in the
// Host and Origin headers becomes the server's), since the server answers only to its own
// address (the DNS-rebinding check).

import net from "node:net";

export interface Relay {
  /** The server's URL with the relay's port in place of the server's. */
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const targetUrl = new URL(target);
  const open = new Set<net.Socket>();
  let refusing = false;
  /** The relay's host:port as the browser writes it, once listening. */
  let relayHost = "\0";

  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(targetUrl.port), targetUrl.hostname);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(socket);
      socket.on("close", () => {
        open.delete(socket);
        other.destroy();
      });
      socket.on("error", () => socket.destroy());
    }
    client.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      upstream.write(text.includes(relayHost) ? Buffer.from(text.replaceAll(relayHost, targetUrl.host), "latin1") : chunk);
    });
    client.on("end", () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.port = String(port);
  relayHost = url.host;

  return {
    url: url.toString(),
    cut() {
      refusing = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      refusing = false;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
