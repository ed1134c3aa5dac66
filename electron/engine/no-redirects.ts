// The engine reads a hub file's header at the address the core resolved, every redirect
// hop checked there (core/net/checked-fetch.ts); it must not be led anywhere else.
// node-llama-cpp's network reader calls the global fetch, so in the engine process that
// fetch never follows a redirect: a 3xx is answered as it is, and the reader fails on it.

let installed = false;

export function refuseRedirects(): void {
  if (installed) return;
  installed = true;
  const follow = globalThis.fetch;
  globalThis.fetch = (input, init) => follow(input, { ...init, redirect: "manual" });
}
