// Builds the Svelte renderer into dist/renderer. The output is served from app:// in the
// desktop app and over http by `quanta serve`, so every URL in it is relative (base "./"),
// and it contains no inline script: the app's CSP is `script-src 'self'`.

import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("../renderer", import.meta.url));
const outDir = fileURLToPath(new URL("../dist/renderer", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  publicDir: false,
  // Options live here; there is no svelte.config.js to look for.
  plugins: [svelte({ configFile: false })],
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2023",
    // Assets stay files: the CSP allows data: for images only, never for fonts or scripts.
    assetsInlineLimit: 0,
    // Chromium supports modulepreload natively; the polyfill would only add code.
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  server: {
    host: "127.0.0.1",
    strictPort: false,
  },
});
