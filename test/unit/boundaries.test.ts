// The boundaries between Quanta's runtimes, read from the sources: every import (value or
// type, static, dynamic or require) of every file under electron/ and renderer/src is checked
// against the rules in docs/ARCHITECTURE.md ("Boundaries"). Type-only imports count: a type
// import loads the whole module, and what it imports, into the importer's type check.

import { promises as fs } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/paths.js";

interface SourceImport {
  specifier: string;
  line: number;
}

/** The import specifiers of a TypeScript source (or a Svelte file's scripts). */
function importsOf(fileName: string, text: string): SourceImport[] {
  const scripts = fileName.endsWith(".svelte")
    ? [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((match) => ({
        code: match[1] ?? "",
        lineOffset: text.slice(0, match.index).split("\n").length - 1,
      }))
    : [{ code: text, lineOffset: 0 }];
  const found: SourceImport[] = [];
  for (const { code, lineOffset } of scripts) {
    const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true);
    const add = (node: ts.Node, specifier: string) =>
      found.push({ specifier, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 + lineOffset });
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
        if (ts.isStringLiteral(node.moduleSpecifier)) add(node, node.moduleSpecifier.text);
      } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        const expression = node.moduleReference.expression;
        if (ts.isStringLiteral(expression)) add(node, expression.text);
      } else if (ts.isImportTypeNode(node)) {
        const argument = node.argument;
        if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) add(node, argument.literal.text);
      } else if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
        const isRequire =
          (ts.isIdentifier(callee) && callee.text === "require") ||
          (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "require");
        const argument = node.arguments[0];
        if ((isImport || isRequire) && argument) {
          // A template names at least the package its fixed head names (`@node-llama-cpp/${name}`).
          if (ts.isStringLiteralLike(argument)) add(node, argument.text);
          else if (ts.isTemplateExpression(argument)) add(node, argument.head.text);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

type Area = string;

/** The area a file belongs to: renderer, or the folder under electron/ (core, engine, common...). */
function areaOf(file: string): Area | null {
  if (file.startsWith("renderer/")) return "renderer";
  const match = /^electron\/([^/]+)\//.exec(file);
  return match?.[1] ?? null;
}

const NODE_BUILTINS = new Set(builtinModules);
const isNodeBuiltin = (specifier: string) => specifier.startsWith("node:") || NODE_BUILTINS.has(specifier.split("/")[0] ?? "");
const isElectron = (specifier: string) => specifier === "electron" || specifier.startsWith("electron/");
const isLlama = (specifier: string) =>
  specifier === "node-llama-cpp" || specifier.startsWith("node-llama-cpp/") || specifier.startsWith("@node-llama-cpp/");
const isKoffi = (specifier: string) => specifier === "koffi" || specifier.startsWith("koffi/");
/** Packages that tie code to one runtime. */
const runtimePackage = (specifier: string) => isElectron(specifier) || isLlama(specifier) || isKoffi(specifier);

/** The core reaches the engine only through the process boundary's own contract. */
const ENGINE_PROTOCOL = new Set(["electron/engine/protocol.ts", "electron/engine/lab-protocol.ts"]);
const RENDERER_DOOR = "renderer/src/lib/api/contract.ts";

interface Edge {
  from: string;
  line: number;
  specifier: string;
  /** The repository path a relative import names (.js read as the .ts it is built from), else null. */
  target: string | null;
}

function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return joined.replace(/\.js$/, ".ts").replace(/\.cjs$/, ".cts");
}

/** Every boundary rule broken by the given sources (repository path → text), one line each. */
function boundaryViolations(sources: ReadonlyMap<string, string>): string[] {
  const edges = new Map<string, Edge[]>();
  for (const [file, text] of sources) {
    edges.set(
      file,
      importsOf(file, text).map(({ specifier, line }) => ({ from: file, line, specifier, target: resolveRelative(file, specifier) })),
    );
  }
  const violations: string[] = [];
  const report = (edge: Edge, rule: string) => violations.push(`${edge.from}:${edge.line} imports "${edge.specifier}": ${rule}`);

  for (const fileEdges of edges.values()) {
    for (const edge of fileEdges) {
      const from = areaOf(edge.from);
      const to = edge.target === null ? null : areaOf(edge.target);
      const intoElectron = edge.target?.startsWith("electron/") ?? false;
      if (isElectron(edge.specifier) && from !== "main") report(edge, "only the Electron shell (electron/main) imports electron");
      if ((isLlama(edge.specifier) || isKoffi(edge.specifier)) && from !== "engine") {
        report(edge, "only the engine imports node-llama-cpp or koffi");
      }
      if (intoElectron && to === "main" && from !== "main") report(edge, "nothing outside electron/main imports the Electron shell");
      switch (from) {
        case "renderer":
          if (isNodeBuiltin(edge.specifier)) report(edge, "the renderer runs in a page: no Node built-ins");
          if (intoElectron && edge.from !== RENDERER_DOOR) report(edge, `the renderer reaches electron/ only through ${RENDERER_DOOR}`);
          if (intoElectron && to !== "contract" && to !== "common") report(edge, "the renderer may use electron/contract and electron/common only");
          break;
        case "common":
          if (edge.target === null || to !== "common") report(edge, "electron/common imports only electron/common (no packages, no node:)");
          break;
        case "common-node":
          if (edge.target === null ? !isNodeBuiltin(edge.specifier) : to !== "common" && to !== "common-node" && to !== "contract") {
            report(edge, "electron/common-node imports only Node built-ins, electron/common, the contract and itself");
          }
          break;
        case "contract":
          if (isNodeBuiltin(edge.specifier)) report(edge, "the contract runs in the renderer too: no Node built-ins");
          if (intoElectron && to !== "contract" && to !== "common") report(edge, "the contract imports only itself and electron/common");
          break;
        case "core":
          if (to === "engine" && !ENGINE_PROTOCOL.has(edge.target ?? "")) {
            report(edge, "the core reaches the engine only through engine/protocol.ts and engine/lab-protocol.ts");
          }
          if (to === "headless" || to === "cli") report(edge, "the core does not import the shells around it");
          break;
        case "engine":
          if (to === "core" || to === "headless" || to === "cli") report(edge, "the engine does not import the core (the arrows run core → engine)");
          break;
      }
    }
  }

  // What a file imports, it loads with everything that imports in turn (type-only included).
  // One line per forbidden import reached, naming a file of the area it was reached from.
  const closureRules: Record<string, (specifier: string) => boolean> = {
    core: runtimePackage,
    common: runtimePackage,
    "common-node": runtimePackage,
    contract: runtimePackage,
    renderer: (specifier) => runtimePackage(specifier) || isNodeBuiltin(specifier),
  };
  for (const [area, forbidden] of Object.entries(closureRules)) {
    const reachedFrom = new Map<string, string>();
    const queue: string[] = [];
    for (const file of edges.keys()) {
      if (areaOf(file) === area) {
        reachedFrom.set(file, file);
        queue.push(file);
      }
    }
    const reported = new Set<Edge>();
    while (queue.length > 0) {
      const file = queue.shift() ?? "";
      for (const edge of edges.get(file) ?? []) {
        if (areaOf(edge.from) !== area && forbidden(edge.specifier) && !reported.has(edge)) {
          reported.add(edge);
          violations.push(
            `${area} loads "${edge.specifier}" through ${edge.from}:${edge.line} (from ${reachedFrom.get(file) ?? file}): not even its types may reach the ${area}`,
          );
        }
        if (edge.target !== null && sources.has(edge.target) && !reachedFrom.has(edge.target)) {
          reachedFrom.set(edge.target, reachedFrom.get(file) ?? file);
          queue.push(edge.target);
        }
      }
    }
  }
  return violations;
}

async function readSources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await fs.readdir(path.join(REPO_ROOT, folder), { withFileTypes: true })) {
      const relative = `${folder}/${entry.name}`;
      if (entry.isDirectory()) await walk(relative);
      else if (/\.(ts|cts|mts|svelte)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        sources.set(relative, await fs.readFile(path.join(REPO_ROOT, relative), "utf8"));
      }
    }
  };
  await walk("electron");
  await walk("renderer/src");
  return sources;
}

describe("runtime boundaries", () => {
  it("are kept by every import in electron/ and renderer/src", async () => {
    const sources = await readSources();
    expect(sources.size).toBeGreaterThan(100);
    expect(boundaryViolations(sources)).toEqual([]);
  });

  it("are caught when broken, type-only imports and imports through other files included", () => {
    const broken = new Map([
      ["renderer/src/lib/x.ts", 'import { readFile } from "node:fs";\nimport type { CoreApi } from "../../../electron/contract/api.js";'],
      ["renderer/src/lib/api/contract.ts", 'export { makeCore } from "../../../../electron/core/app-core.js";'],
      ["renderer/src/lib/View.svelte", '<script lang="ts">\n  import path from "path";\n</script>'],
      ["electron/core/app-core.ts", 'import type { BrowserWindow } from "electron";\nimport { q } from "../engine/quantize.js";'],
      ["electron/core/lab/jobs.ts", 'import type { P } from "../../engine/lab-protocol.js";'],
      ["electron/engine/lab-protocol.ts", 'import type { Q } from "./evaluation.js";'],
      ["electron/engine/evaluation.ts", 'import type { LlamaModel } from "node-llama-cpp";'],
      ["electron/engine/quantize.ts", 'import { read } from "../core/library/gguf-reader.js";\ntype K = typeof import("koffi");'],
      ["electron/core/library/gguf-reader.ts", ""],
      ["electron/headless/server.ts", 'import { csp } from "../main/security-policy.js";\nconst k = require("koffi");'],
      ["electron/common/ids.ts", 'import { randomUUID } from "node:crypto";\nimport { z } from "zod";'],
      ["electron/common-node/x.ts", 'import { a } from "../core/app-core.js";\nimport { ws } from "ws";'],
      ["electron/contract/api.ts", 'import os from "node:os";'],
      ["electron/api/server.ts", 'const llama = await import(`@node-llama-cpp/${name}`);'],
    ]);
    const found = boundaryViolations(broken).join("\n");
    for (const expected of [
      'renderer/src/lib/x.ts:1 imports "node:fs"',
      'renderer/src/lib/x.ts:2 imports "../../../electron/contract/api.js": the renderer reaches electron/ only through',
      "renderer/src/lib/api/contract.ts:1 imports \"../../../../electron/core/app-core.js\": the renderer may use",
      'renderer/src/lib/View.svelte:2 imports "path"',
      'electron/core/app-core.ts:1 imports "electron"',
      'electron/core/app-core.ts:2 imports "../engine/quantize.js": the core reaches the engine only through',
      'core loads "koffi" through electron/engine/quantize.ts:2 (from electron/core/app-core.ts)',
      'core loads "node-llama-cpp" through electron/engine/evaluation.ts:1 (from electron/core/lab/jobs.ts)',
      'electron/engine/quantize.ts:1 imports "../core/library/gguf-reader.js": the engine does not import the core',
      'electron/headless/server.ts:1 imports "../main/security-policy.js": nothing outside electron/main',
      'electron/headless/server.ts:2 imports "koffi": only the engine',
      'electron/common/ids.ts:1 imports "node:crypto"',
      'electron/common/ids.ts:2 imports "zod"',
      'electron/common-node/x.ts:1 imports "../core/app-core.js"',
      'electron/common-node/x.ts:2 imports "ws"',
      'electron/contract/api.ts:1 imports "node:os"',
      'electron/api/server.ts:1 imports "@node-llama-cpp/": only the engine',
    ]) {
      expect(found).toContain(expected);
    }
  });
});
