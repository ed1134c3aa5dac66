// The llama.cpp build in the user's language ("prebuilt by node-llama-cpp, haswell CPU kernels,
// llama.cpp v0.5.0"), as Will it fit, the Hardware view and the Lab's results name it.

import type { EngineBuild } from "../api/contract.js";
import type { MessageKey } from "../i18n/en.js";

type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

export function engineBuildWords(build: EngineBuild, t: Translate): string {
  if (build.kind === "local") return t("lib.effect.buildLocal", { release: build.llamaCpp });
  return build.cpuVariant
    ? t("lib.effect.buildPrebuiltVariant", { variant: build.cpuVariant, release: build.llamaCpp })
    : t("lib.effect.buildPrebuilt", { release: build.llamaCpp });
}
