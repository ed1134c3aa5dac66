// A llama.cpp build in words, for the command line, the Lab's reports and the benches (the
// renderer words it in the user's language from the same fields).

import type { EngineBuild } from "./types.js";

/** "prebuilt by node-llama-cpp, CPU kernels for haswell (llama.cpp v0.5.0)", "built on this machine (llama.cpp v0.5.0)". */
export function engineBuildText(build: EngineBuild): string {
  const where =
    build.kind === "local"
      ? "built on this machine"
      : `prebuilt by node-llama-cpp${build.cpuVariant ? `, CPU kernels for ${build.cpuVariant}` : ""}`;
  return `${where} (llama.cpp ${build.llamaCpp})`;
}
