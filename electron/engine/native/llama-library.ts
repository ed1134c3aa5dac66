// The libllama that node-llama-cpp loaded into this process, opened once more through FFI
// (koffi) for what node-llama-cpp does not expose: the quantizer and raw logits. The file is
// read from the process's own list of loaded libraries after node-llama-cpp chose its build
// (CPU, CUDA, Vulkan, Metal), so the loader hands back the same library instance, never a
// second build of libllama beside the first.

import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import { loadedLibraries } from "../engine-build.js";
import { getBackend } from "../model-session.js";

export type Koffi = (typeof import("koffi"))["default"];
export type KoffiLibrary = ReturnType<Koffi["load"]>;

/** The llama.cpp release whose llama.h the FFI layouts in this folder are copied from. */
export const LLAMA_CPP_RELEASE = "v0.5.0";

/**
 * Stack for koffi's asynchronous calls. koffi runs native code on a stack of its own, 128 KiB
 * by default for async calls; llama.cpp's tools run this code on a main thread (1 MiB on
 * Windows, 8 MiB elsewhere). Memory is reserved, and committed only as it is used, on POSIX.
 */
const ASYNC_STACK_BYTES = 4 * 1024 * 1024;

/**
 * libllama's file name in any of node-llama-cpp's builds: libllama.v0.5.0.so, libllama.cuda.v0.5.0.so,
 * libllama.dylib, llama.dll, and a local build's libllama.v0.5.0.4o1t6q75.so (its options' hash).
 */
const LLAMA_LIBRARY_FILE = /^(lib)?llama(\.[a-z]+)?(\.v?\d+(\.\d+)*)?(\.[a-z0-9]+)?\.(so|dylib|dll)(\.\d+)*$/i;

export interface NativeLlama {
  koffi: Koffi;
  lib: KoffiLibrary;
  /** The absolute path of the library, as the process loaded it. */
  file: string;
}

let opened: Promise<NativeLlama> | null = null;

/** The libllama files this process has loaded (node-llama-cpp's, and no other once Quanta is done). */
export function loadedLlamaLibraries(): string[] {
  return loadedLibraries().filter((file) => LLAMA_LIBRARY_FILE.test(path.basename(file)));
}

/** node-llama-cpp's libllama, loaded by it first, then opened here through koffi. */
export function openNativeLlama(): Promise<NativeLlama> {
  opened ??= open().catch((error: unknown) => {
    opened = null; // a later call tries again
    throw error;
  });
  return opened;
}

async function open(): Promise<NativeLlama> {
  // node-llama-cpp chooses the build (and loads it) here; everything below follows its choice.
  const llama = await getBackend();
  if (llama.llamaCppRelease.release !== LLAMA_CPP_RELEASE) {
    throw new QuantaError(
      "engine_unavailable",
      `node-llama-cpp runs llama.cpp ${llama.llamaCppRelease.release}; Quanta's native calls are made for ${LLAMA_CPP_RELEASE}, so they are off.`,
    );
  }
  const files = loadedLlamaLibraries();
  const file = files[0];
  if (files.length !== 1 || file === undefined) {
    throw new QuantaError(
      "engine_unavailable",
      files.length === 0
        ? "The process's list of loaded libraries does not name llama.cpp's, so Quanta cannot reach it directly."
        : `More than one llama.cpp library is loaded (${files.join(", ")}), so Quanta will not pick one.`,
    );
  }
  let koffi: Koffi;
  try {
    koffi = (await import("koffi")).default;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new QuantaError("engine_unavailable", `The FFI module koffi could not be loaded (${detail}).`);
  }
  // Only possible before koffi loads its first library.
  const config = koffi.config();
  if ((config.async_stack_size ?? 0) < ASYNC_STACK_BYTES) {
    try {
      koffi.config({ ...config, async_stack_size: ASYNC_STACK_BYTES });
    } catch {
      // keep the default
    }
  }
  let lib: KoffiLibrary;
  try {
    // The same path the process already holds: the loader returns that instance.
    lib = koffi.load(file);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new QuantaError("engine_unavailable", `llama.cpp's library ${file} could not be opened (${detail}).`);
  }
  const after = loadedLlamaLibraries();
  if (after.length !== 1 || after[0] !== file) {
    throw new QuantaError("internal", `Opening ${file} loaded another copy of llama.cpp (${after.join(", ")}).`);
  }
  return { koffi, lib, file };
}
