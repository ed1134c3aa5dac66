// The local API's model ids: the file name without .gguf (what a person types, e.g.
// "stories260K"), made unique by its folder when two files share a name. One definition for
// the API server, the Models view and the Server view.

import type { ModelSummary } from "./types.js";

function baseName(fileName: string): string {
  return fileName.replace(/\.gguf$/i, "").replace(/-00001-of-\d{5}$/i, "");
}

function folderName(folder: string): string {
  const parts = folder.split(/[\\/]+/).filter((part) => part !== "");
  return parts.at(-1) ?? "models";
}

/** Library id → API id, for every model in the library (stable while the files stay where they are). */
export function apiModelIds(models: readonly Pick<ModelSummary, "id" | "fileName" | "folder">[]): Map<string, string> {
  const byName = new Map<string, Pick<ModelSummary, "id" | "fileName" | "folder">[]>();
  for (const model of models) {
    const name = baseName(model.fileName);
    byName.set(name, [...(byName.get(name) ?? []), model]);
  }
  const ids = new Map<string, string>();
  for (const [name, group] of byName) {
    if (group.length === 1 && group[0]) {
      ids.set(group[0].id, name);
      continue;
    }
    // Same file name in several folders: the folder's name in front, then the library id if still ambiguous.
    const sorted = [...group].sort((a, b) => a.folder.localeCompare(b.folder));
    const taken = new Set<string>();
    for (const model of sorted) {
      let id = `${folderName(model.folder)}/${name}`;
      if (taken.has(id)) id = `${id}-${model.id.slice(0, 8)}`;
      taken.add(id);
      ids.set(model.id, id);
    }
  }
  return ids;
}
