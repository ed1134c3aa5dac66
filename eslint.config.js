// ESLint (flat config): typescript-eslint's type-aware rules for every TypeScript file, each
// checked with its own runtime's tsconfig (project service), eslint-plugin-svelte for the
// renderer's components and rune modules. Formatting is Prettier's job (.prettierrc), so no
// stylistic rule here. `npm run lint` runs this and `prettier --check`.

import js from "@eslint/js";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    // build/not-in-this-runtime: empty stand-ins for packages a tsconfig project may not use.
    ignores: ["dist/", "release/", "out/", "node_modules/", ".quanta-test/", "test-results/", "build/not-in-this-runtime/"],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Config files outside every tsconfig project.
          allowDefaultProject: ["test/vitest.config.ts", "build/vite.renderer.config.ts"],
        },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: [".svelte"],
      },
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: {
      parserOptions: { parser: tseslint.parser },
    },
  },
  {
    files: ["renderer/src/**"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["electron/**", "test/**", "build/**", "bin/**", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Plain JavaScript (the bin entry, electron-builder's CommonJS config, this file) is in no
    // tsconfig project: the type-aware rules cannot run there.
    files: ["**/*.js", "**/*.cjs", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
  },
  {
    rules: {
      // Numbers in messages and file names are the norm ("took ${ms} ms"); objects, nullish
      // values and unions with them stay refused (strict's "[object Object]" and "undefined" guard).
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // `(event) => event.preventDefault()` and `() => callback(false)` are read as statements.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      // A leading underscore marks a parameter an interface hands over but this code does not need.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Off: with noUncheckedIndexedAccess every indexed read is `T | undefined`; in the binary
      // readers and the per-token and per-window loops a bounds-checked index followed by `!` is
      // the idiom, and a runtime test per element would cost there.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
