import * as prettier from "prettier";
import fs from "node:fs";
import { execSync } from "node:child_process";
const files = execSync("git ls-files '*.ts' '*.svelte' '*.cts' '*.js' '*.cjs' '*.json' '*.css'", { encoding: "utf8" }).trim().split("\n").filter(f => !f.includes("package-lock"));
const widths = process.argv.slice(2).map(Number);
for (const w of widths) {
  let changedFiles = 0, changedLines = 0;
  for (const f of files) {
    const src = fs.readFileSync(f, "utf8");
    const out = await prettier.format(src, { filepath: f, printWidth: w, plugins: ["prettier-plugin-svelte"], trailingComma: "all" });
    if (out !== src) {
      changedFiles++;
      const a = src.split("\n"), b = new Set(out.split("\n"));
      changedLines += a.filter(l => !b.has(l)).length;
    }
  }
  console.log(`printWidth ${w}: ${changedFiles}/${files.length} files differ, ~${changedLines} original lines changed`);
}
