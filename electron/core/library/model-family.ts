// Model families: files that hold the same base model in different quantizations, the unit
// the Lab compares. Pure: the library feeds it what the headers say and keeps the result.
//
// Two files are one family when their architecture, vocabulary size and tensor table
// (every tensor's name and shape: quantization changes a tensor's type, never its shape, and
// the shapes fix the parameter count) agree. Files whose header cannot be read fall back to
// their file name without the quantization suffix.

import { createHash } from "node:crypto";
import { stripQuantSuffix } from "./quant-names.js";

export interface FamilyMember {
  id: string;
  fileName: string;
  architecture: string | null;
  vocabSize: number | null;
  /** tensorSignature() of the model's tensors; null when the header could not be read. */
  tensorSignature: string | null;
  /** general.basename (with general.size_label), else general.name; null when absent. */
  declaredName: string | null;
}

export interface ModelFamily {
  id: string;
  name: string;
  memberIds: string[];
}

/** A digest of every tensor's name and shape, independent of tensor order and type. */
export function tensorSignature(tensors: ReadonlyArray<{ name: string; dims: readonly number[] }>): string {
  const lines = tensors.map((tensor) => `${tensor.name}:${tensor.dims.join("x")}`).sort();
  return digest(lines.join("\n"));
}

/** Groups models into families; every member lands in exactly one, families sorted by name. */
export function groupModelFamilies(members: readonly FamilyMember[]): ModelFamily[] {
  const groups = new Map<string, FamilyMember[]>();
  for (const member of members) {
    const key =
      member.tensorSignature !== null
        ? `model|${member.architecture ?? "?"}|${member.vocabSize ?? "?"}|${member.tensorSignature}`
        : `name|${stripQuantSuffix(member.fileName).toLowerCase()}`;
    const group = groups.get(key) ?? [];
    group.push(member);
    groups.set(key, group);
  }
  return [...groups.entries()]
    .map(([key, group]) => ({
      id: digest(key).slice(0, 16),
      name: familyName(group),
      memberIds: group.map((member) => member.id).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The declared name most members share, else the shortest quant-free file name. */
function familyName(group: readonly FamilyMember[]): string {
  const votes = new Map<string, number>();
  for (const member of group) {
    const name = member.declaredName?.trim();
    if (name) votes.set(name, (votes.get(name) ?? 0) + 1);
  }
  const declared = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  if (declared !== undefined) return declared;
  return group.map((member) => stripQuantSuffix(member.fileName)).sort((a, b) => a.length - b.length || a.localeCompare(b))[0] ?? "";
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
