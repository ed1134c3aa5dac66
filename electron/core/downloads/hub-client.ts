// A client for a Hugging Face-compatible hub: search GGUF repositories, list a repository's
// GGUF files grouped by quantization (split models as one), and the URL of a file. Every
// response is validated with zod: the hub is a remote party and its answers are untrusted.

import { z } from "zod";
import { QuantaError } from "../../contract/errors.js";
import type { HubAddress, HubModelFile, HubRepository, HubRepositoryFiles } from "../../contract/types.js";
import { quantizationFromFileName, splitPart } from "../library/quant-names.js";
import { fetchCheckingRedirects } from "../net/checked-fetch.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";

/** The hub's address and where it came from: QUANTA_HUB_URL, else the user's setting, else Hugging Face. */
export function hubBaseUrl(env: NodeJS.ProcessEnv = process.env, setting: string | null = null): HubAddress {
  const fromEnv = env.QUANTA_HUB_URL?.trim();
  const [url, source] =
    fromEnv !== undefined && fromEnv !== ""
      ? [fromEnv, "env" as const]
      : setting !== null
        ? [setting, "settings" as const]
        : [DEFAULT_HUB_URL, "default" as const];
  return { url: url.replace(/\/+$/, ""), source };
}

/** An http(s) address with no credentials, query or fragment: what a hub's base URL may be. */
export const hubUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(500)
  .refine((value) => {
    // Runs even when the URL check above failed, so it must not assume a valid URL.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === "" && url.password === "" && url.search === "" && url.hash === "";
  }, "a hub address is http(s)://host[:port][/path], with no user name, query or fragment");

/** owner/name, as the hub spells repository ids. */
export const repoIdSchema = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, "a repository is owner/name");

/** A path inside a repository: no absolute paths, no "..", ends in .gguf. */
export const repoFilePathSchema = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[^/\\][^\\]*\.gguf$/i, "a model file is a .gguf path inside the repository")
  .refine((value) => !value.split("/").some((segment) => segment === ".." || segment === "." || segment === ""), "no . or .. in the path");

const searchSchema = z
  .array(
    z.looseObject({
      id: repoIdSchema,
      downloads: z.number().nonnegative().optional(),
      likes: z.number().nonnegative().optional(),
      lastModified: z.string().optional(),
    }),
  )
  .max(1000);

const treeSchema = z
  .array(
    z.looseObject({
      type: z.string(),
      path: z.string().min(1).max(1000),
      size: z.number().int().nonnegative().optional(),
      lfs: z
        .looseObject({
          oid: z.string().regex(/^[0-9a-f]{64}$/),
          size: z.number().int().nonnegative(),
        })
        .optional(),
    }),
  )
  .max(100_000);

const REQUEST_TIMEOUT_MS = 20_000;

export class HubClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async search(query: string): Promise<HubRepository[]> {
    const url = new URL(`${this.baseUrl()}/api/models`);
    url.searchParams.set("search", query);
    url.searchParams.set("filter", "gguf");
    url.searchParams.set("sort", "downloads");
    url.searchParams.set("limit", "40");
    const items = await this.getJson(url, searchSchema, "the search results");
    return items.map((item) => ({
      id: item.id,
      downloads: item.downloads ?? null,
      likes: item.likes ?? null,
      updatedAt: item.lastModified ?? null,
    }));
  }

  async listFiles(repo: string): Promise<HubRepositoryFiles> {
    const url = new URL(`${this.baseUrl()}/api/models/${repo}/tree/main`);
    url.searchParams.set("recursive", "true");
    const tree = await this.getJson(url, treeSchema, `the file list of ${repo}`);
    const files = tree
      .filter((item) => item.type === "file" && repoFilePathSchema.safeParse(item.path).success)
      .map((item) => ({ path: item.path, sizeBytes: item.lfs?.size ?? item.size ?? 0, sha256: item.lfs?.oid ?? null }));
    return { repo, groups: groupByQuantization(files) };
  }

  /** The download URL of a file (the hub may redirect it to a CDN). */
  fileUrl(repo: string, filePath: string): string {
    return `${this.baseUrl()}/${repo}/resolve/main/${filePath.split("/").map(encodeURIComponent).join("/")}`;
  }

  /**
   * Where a file's bytes are served after the hub's redirects, each hop checked: the one
   * address handed to the engine, which follows no redirect of its own.
   */
  async resolveFileUrl(repo: string, filePath: string): Promise<string> {
    const { response, url } = await this.fetchChecked(new URL(this.fileUrl(repo, filePath)), { headers: { Range: "bytes=0-0" } });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) throw new QuantaError("not_found", `The hub has no file ${filePath} in ${repo} (404).`);
    if (!response.ok) throw new QuantaError("hub_unreachable", `The hub answered ${response.status} for ${filePath}.`);
    return url.href;
  }

  /** A file's bytes (downloads): the hub's redirects followed with each hop checked. */
  async fetchFile(url: string, init: RequestInit): Promise<Response> {
    return (await fetchCheckingRedirects(new URL(url), init, { trustedOrigin: this.baseUrl(), fetchImpl: this.fetchImpl })).response;
  }

  private async fetchChecked(url: URL, init: RequestInit): Promise<{ response: Response; url: URL }> {
    try {
      return await fetchCheckingRedirects(
        url,
        { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init },
        { trustedOrigin: this.baseUrl(), fetchImpl: this.fetchImpl },
      );
    } catch (error) {
      if (error instanceof QuantaError) throw error;
      throw new QuantaError(
        "hub_unreachable",
        `Quanta could not reach ${url.host} (${describeNetworkError(error)}). Downloading needs an internet connection.`,
      );
    }
  }

  private async getJson<T>(url: URL, schema: z.ZodType<T>, what: string): Promise<T> {
    const { response } = await this.fetchChecked(url, { headers: { Accept: "application/json" } });
    if (response.status === 404) throw new QuantaError("not_found", `The hub has no ${what} (404).`);
    if (!response.ok) throw new QuantaError("hub_unreachable", `The hub answered ${response.status} for ${what}.`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new QuantaError("hub_unreachable", `The hub sent ${what} in a form Quanta cannot read (not JSON).`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new QuantaError(
        "hub_unreachable",
        `The hub sent ${what} in an unexpected shape: ${parsed.error.issues[0]?.message ?? "invalid"}.`,
      );
    return parsed.data;
  }
}

/** GGUF files grouped by quantization, the parts of a split model as one entry; smallest first. */
export function groupByQuantization(files: ReadonlyArray<HubModelFile["files"][number]>): HubRepositoryFiles["groups"] {
  const models = new Map<string, HubModelFile>();
  for (const file of files) {
    const name = file.path.split("/").at(-1) ?? file.path;
    const part = splitPart(name);
    const dir = file.path.slice(0, file.path.length - name.length);
    const key = part ? `${dir}${part.stem}#${part.total}` : file.path;
    const model = models.get(key) ?? { path: file.path, files: [], sizeBytes: 0, quantization: quantizationFromFileName(name) ?? "other" };
    model.files.push(file);
    model.sizeBytes += file.sizeBytes;
    models.set(key, model);
  }
  const complete: HubModelFile[] = [];
  for (const model of models.values()) {
    model.files.sort((a, b) => a.path.localeCompare(b.path));
    model.path = model.files[0]?.path ?? model.path;
    const part = splitPart(model.path.split("/").at(-1) ?? "");
    // A split model missing a part on the hub cannot be loaded; it is not offered.
    if (part && (part.index !== 1 || model.files.length !== part.total)) continue;
    complete.push(model);
  }
  const groups = new Map<string, HubModelFile[]>();
  for (const model of complete) groups.set(model.quantization, [...(groups.get(model.quantization) ?? []), model]);
  return [...groups.entries()]
    .map(([quantization, list]) => ({ quantization, files: list.sort((a, b) => a.sizeBytes - b.sizeBytes) }))
    .sort((a, b) => (a.files[0]?.sizeBytes ?? 0) - (b.files[0]?.sizeBytes ?? 0));
}

export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return cause.code;
  if (error instanceof Error) return error.name === "TimeoutError" ? "no answer in time" : error.message;
  return String(error);
}
