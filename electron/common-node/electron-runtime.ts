// Is the Electron runtime binary installed? Answered from the files the electron package's
// installer writes, without requiring "electron": its index.js starts a download when the
// binary is missing. Node only, no electron import: the CLI (to fall back to headless mode)
// and the Electron smoke test use it.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export type ElectronRuntime = { path: string } | { missing: string };

/** The Electron executable under packageRoot/node_modules/electron, or why there is none. */
export function findElectronRuntime(packageRoot: string, env: NodeJS.ProcessEnv = process.env): ElectronRuntime {
  const packageDir = path.join(packageRoot, "node_modules", "electron");
  if (!existsSync(path.join(packageDir, "package.json"))) {
    return { missing: "The electron package is not installed (no node_modules/electron)." };
  }
  // path.txt names the executable inside dist/ (e.g. "electron", "Electron.app/Contents/MacOS/Electron").
  const pathFile = path.join(packageDir, "path.txt");
  const executableName = existsSync(pathFile) ? readFileSync(pathFile, "utf8").trim() : "";
  // Honoured the same way as the electron package's own index.js does.
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const executable = path.join(override, executableName || "electron");
    return existsSync(executable)
      ? { path: executable }
      : { missing: `The Electron runtime is not installed: ELECTRON_OVERRIDE_DIST_PATH names ${executable}, which does not exist.` };
  }
  if (executableName === "") {
    return {
      missing:
        "The Electron runtime is not installed: node_modules/electron/path.txt is missing, so its download was skipped or blocked (run `node node_modules/electron/install.js` where GitHub is reachable).",
    };
  }
  const executable = path.join(packageDir, "dist", executableName);
  if (!existsSync(executable)) {
    return { missing: `The Electron runtime is not installed: ${executable} does not exist (its download was interrupted or blocked).` };
  }
  return { path: executable };
}
