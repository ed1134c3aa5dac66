// Where the Lab writes a variant: never into another app's store (a source in LM Studio's
// folder gets its variants in a family folder of Quanta's own models folder, said in the plan
// before anything starts), and for a folder the user added, beside the source or in Quanta's
// folder, as the user chooses.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreEvent, QuantizeJob } from "../../electron/contract/types.js";
import { describeGguf, readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { modelIdFor } from "../../electron/core/library/model-library.js";
import { writeSyntheticLlama } from "../fixtures/gguf-writer.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

let lmStudio: string;
let userFolder: string;
let harness: CoreHarness;
const previous = { lmstudio: process.env.QUANTA_LMSTUDIO_MODELS, ollama: process.env.OLLAMA_MODELS };

async function synthetic(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeSyntheticLlama(file, {
    tokenizerFrom: STORIES_MODEL,
    embeddingLength: 256,
    layers: 1,
    feedForwardLength: 256,
    heads: 4,
    type: "F32",
    seed: 11,
    name: "synthetic",
  });
}

const isJobEnd =
  (jobId: string) =>
  (event: CoreEvent): event is Extract<CoreEvent, { type: "lab.quantize" }> =>
    event.type === "lab.quantize" && event.job.jobId === jobId && ["done", "failed", "cancelled"].includes(event.job.state);

async function finished(job: QuantizeJob): Promise<QuantizeJob> {
  const seen = harness.events.find((event) => isJobEnd(job.jobId)(event));
  if (seen?.type === "lab.quantize") return seen.job;
  return (await harness.waitFor(isJobEnd(job.jobId), 120_000)).job;
}

async function listing(folder: string): Promise<string[]> {
  return (await fs.readdir(folder, { recursive: true })).map(String).sort();
}

beforeAll(async () => {
  lmStudio = await tempDir("lmstudio");
  userFolder = await tempDir("user-models");
  await synthetic(path.join(lmStudio, "someone", "synthetic-GGUF", "synthetic-F32.gguf"));
  await synthetic(path.join(userFolder, "synthetic-F32.gguf"));
  process.env.QUANTA_LMSTUDIO_MODELS = lmStudio;
  process.env.OLLAMA_MODELS = "";
  harness = await startCore([userFolder]);
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await harness?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  for (const [key, value] of [
    ["QUANTA_LMSTUDIO_MODELS", previous.lmstudio],
    ["OLLAMA_MODELS", previous.ollama],
  ] as const) {
    if (value === undefined) Reflect.deleteProperty(process.env, key);
    else process.env[key] = value;
  }
  await fs.rm(lmStudio, { recursive: true, force: true });
  await fs.rm(userFolder, { recursive: true, force: true });
});

describe("where the Lab writes variants", () => {
  it("writes a variant of a source in LM Studio's folder to Quanta's models folder, and says so before it starts", async () => {
    const source = path.join(lmStudio, "someone", "synthetic-GGUF", "synthetic-F32.gguf");
    const before = await listing(lmStudio);
    const models = path.join(harness.home, "models");
    const plan = await harness.core.api.getQuantizePlan({ modelId: modelIdFor(source) });
    expect(plan.besideRefusal).toBe("other_app");
    expect(plan.destinations).toHaveLength(1);
    expect(plan.destinations[0]?.kind).toBe("models");
    const folder = plan.destinations[0]?.folder ?? "";
    expect(path.dirname(folder)).toBe(models);

    await expect(harness.core.api.startQuantize({ modelId: modelIdFor(source), types: ["Q8_0"], destination: "beside" })).rejects.toThrow(
      /another app's folder/,
    );
    const [job] = await harness.core.api.startQuantize({ modelId: modelIdFor(source), types: ["Q8_0"] });
    expect(job?.folder).toBe(folder);
    const end = await finished(job as QuantizeJob);
    expect(end.error).toBeNull();
    const written = path.join(folder, "synthetic-Q8_0.gguf");
    expect(describeGguf(await readGgufHeader(written), written).fileType).toBe("Q8_0");
    expect(end.resultModelId).toBe(modelIdFor(written));
    // LM Studio's folder is exactly as it was.
    expect(await listing(lmStudio)).toEqual(before);
    // The next plan knows the variant is there.
    const again = await harness.core.api.getQuantizePlan({ modelId: modelIdFor(source) });
    expect(again.destinations[0]?.existing).toContain("Q8_0");
    expect(again.options.find((option) => option.type === "Q8_0")?.exists).toBe(true);
  });

  it("offers a user's folder (the default, as before) and Quanta's models folder, and writes where the user chose", async () => {
    const source = path.join(userFolder, "synthetic-F32.gguf");
    const plan = await harness.core.api.getQuantizePlan({ modelId: modelIdFor(source) });
    expect(plan.besideRefusal).toBeNull();
    expect(plan.destinations.map((destination) => destination.kind)).toEqual(["beside", "models"]);
    expect(plan.destinations[0]?.folder).toBe(userFolder);
    const [job] = await harness.core.api.startQuantize({ modelId: modelIdFor(source), types: ["Q6_K"], destination: "models" });
    const end = await finished(job as QuantizeJob);
    expect(end.error).toBeNull();
    expect(existsSync(path.join(plan.destinations[1]?.folder ?? "", "synthetic-Q6_K.gguf"))).toBe(true);
    expect(existsSync(path.join(userFolder, "synthetic-Q6_K.gguf"))).toBe(false);
  });
});
