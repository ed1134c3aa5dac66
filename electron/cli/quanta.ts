// The `quanta` command: `quanta serve` runs headless mode, `quanta start` the desktop app
// (or headless mode, where the Electron runtime is not installed).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { RemoteBindRefused, startHeadless } from "../headless/server.js";
import { isLoopbackHost } from "../core/net/host-check.js";
import { findElectronRuntime } from "../common-node/electron-runtime.js";
import { compareCommand, LabUsageError, quantizeCommand } from "./lab-commands.js";
import { API_OPTIONS, API_USAGE, ApiUsageError, apiCommand, apiOverrides, startApi } from "./api-command.js";
import { resolveHome } from "../core/settings/paths.js";
import { DESKTOP_ENTRY, ENGINE_BUILD_ENTRY, ENGINE_ENTRY, PACKAGE_ROOT, RENDERER_DIR, packageVersion } from "./install-paths.js";

const USAGE = `Usage:
  quanta start                 open the desktop app (headless mode where Electron is missing)
  quanta serve [--port N] [--host ADDRESS [--allow-remote]]
                               serve the app to a browser; prints the URL to open (port 0 picks one);
                               an address other than this machine's needs --allow-remote
  quanta quantize IN --type TYPE [--keep Q8_0|F16] [--out FILE]
                               quantize a GGUF (F32, F16, BF16 or Q8_0) with llama.cpp's quantizer;
                               --keep (or --type Q4_K_M+Q8_0) keeps output and embeddings at that type
  quanta compare FILE FILE... [--text FILE] [--ctx N] [--quality-only] [--json|--md]
                               measure variants of one model: size, speed, perplexity, KL divergence;
                               --quality-only skips the speed tests (pp, tg)
${API_USAGE}
  quanta engine [status|build|reset]
                               the llama.cpp build the engine runs; build compiles node-llama-cpp's
                               bundled source for this machine (offline; needs cmake, a C++ compiler
                               and git; 10-20 minutes); reset goes back to the prebuilt
Environment: QUANTA_HOME (data folder), QUANTA_MODELS (extra model folders)`;

class UsageError extends Error {}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${value}".`);
  return port;
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, host: { type: "string" }, "allow-remote": { type: "boolean" }, ...API_OPTIONS },
    strict: true,
  });
  const api = apiOverrides(values);
  if (!existsSync(RENDERER_DIR))
    throw new UsageError("The renderer is not built. Run `npm run build` first (npm run serve does it for you).");
  const host = values.host ?? "127.0.0.1";
  const allowRemote = values["allow-remote"] === true;
  if (!isLoopbackHost(host) && allowRemote) {
    console.warn(
      `Warning: serving on ${host} sends the access token and everything you do in Quanta over the network in plain HTTP. ` +
        "Anyone who can see that traffic can use Quanta as you. Use it only on a network you trust.",
    );
  }
  let server: Awaited<ReturnType<typeof startHeadless>>;
  try {
    server = await startHeadless({
      home: resolveHome(),
      version: packageVersion(),
      rendererDir: RENDERER_DIR,
      engineEntry: ENGINE_ENTRY,
      host,
      port: parsePort(values.port),
      allowRemote,
    });
  } catch (error) {
    if (error instanceof RemoteBindRefused) throw new UsageError(error.message);
    throw error;
  }
  console.log(`Quanta is running. Open ${server.url}`);
  if (Object.keys(api).length > 0) await startApi(server.core, api);
  const stop = () => {
    // The process exits whether or not closing succeeded, so nothing is left to reject.
    void server.close().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function start(args: string[]): Promise<void> {
  const runtime = findElectronRuntime(PACKAGE_ROOT);
  if ("missing" in runtime) {
    console.log(`${runtime.missing} Starting headless mode instead; open the URL below in a browser.`);
    return serve(args);
  }
  const child = spawn(runtime.path, [DESKTOP_ENTRY, ...args], { stdio: "inherit" });
  child.on("exit", (code) => process.exit(code ?? 0));
  return Promise.resolve();
}

/** `quanta engine ...` runs in a process of its own, as the engine does (it loads llama.cpp). */
function engine(args: string[]): Promise<void> {
  const [command = "status", ...rest] = args;
  if (!["status", "build", "reset"].includes(command) || rest.length > 0) {
    throw new UsageError(`Unknown engine command "${args.join(" ")}": status, build or reset.`);
  }
  const child = spawn(process.execPath, [ENGINE_BUILD_ENTRY, command], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      process.exitCode = code ?? 1;
      resolve();
    });
  });
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        await serve(rest);
        return;
      case "start":
        await start(rest);
        return;
      case "api":
        await apiCommand(rest);
        return;
      case "quantize":
        await quantizeCommand(rest);
        return;
      case "compare":
        await compareCommand(rest);
        return;
      case "engine":
        await engine(rest);
        return;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      error instanceof LabUsageError ||
      error instanceof ApiUsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(error instanceof Error ? error.message : String(error));
    if (usage) console.error(USAGE);
    process.exitCode = usage ? 2 : 1;
  }
}
