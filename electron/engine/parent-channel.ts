// The engine's end of its channel to the core: Electron's parentPort inside a
// utilityProcess, or the Node IPC channel of child_process.fork in headless mode and tests.

interface ParentPortMessage {
  data: unknown;
}

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: ParentPortMessage) => void): void;
}

export interface ParentChannel {
  post(message: unknown): void;
  on(listener: (message: unknown) => void): void;
}

export function connectToParent(): ParentChannel {
  const parentPort = (process as NodeJS.Process & { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      post: (message) => parentPort.postMessage(message),
      on: (listener) => parentPort.on("message", (event) => listener(event.data)),
    };
  }
  if (typeof process.send === "function") {
    // The core owns this process: when the channel closes, nobody is left to serve.
    process.on("disconnect", () => process.exit(0));
    return {
      post: (message) => {
        if (process.connected) process.send?.(message);
      },
      on: (listener) => process.on("message", listener),
    };
  }
  throw new Error("The Quanta engine must be started by the Quanta core (no parent channel found).");
}
