/**
 * Obtaining a dataset from a list of sources: each file comes from the first source that is
 * still alive and delivers it intact. A source that fails once (unreachable, missing file,
 * corrupt data, wrong digest) is dropped with a one-line reason, so an offline machine falls
 * through to its local mirror after one quick failure per remote source.
 *
 * @module
 */
import type { DatasetFile } from "./fashion_mnist.ts";
import { fetchWithRetry } from "./http_fetch.ts";
import { type FetchedFile, readFromMirror } from "./mirror.ts";
import { describeSource, parseSource, type Source } from "./sources.ts";
import { checkPairs, verifyFile } from "./verify.ts";

/** How to obtain a dataset. */
export interface ObtainOptions {
  /** Source texts in the order to try them (see `sources.ts`). */
  sources: readonly string[];
  /** The files and their expected digests. */
  files: readonly DatasetFile[];
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  log(message: string): void;
  progress(p: { done: number; total?: number; message?: string }): void;
}

/** How to make a machine find the data, appended to the error when every source failed. */
const HOW_TO_FIX = "Fix: install the Debian package (apt-get install dataset-fashion-mnist), " +
  "or add a directory holding the files (gzipped or not) to `sources`, or give network access.";

async function fetchFrom(
  source: Source,
  file: DatasetFile,
  options: ObtainOptions,
): Promise<FetchedFile> {
  if (source.type === "dir") return await readFromMirror(source.dir, file.name);
  const url = `${source.url}/${file.name}.gz`;
  const bytes = await fetchWithRetry(url, {
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    backoffMs: options.backoffMs,
    onProgress: (done, total) => options.progress({ done, total, message: `${file.name}.gz` }),
    onRetry: (reason, attempt, waitMs) =>
      options.log(`${url}: ${reason}; retry ${attempt}/${options.retries} in ${waitMs} ms`),
  });
  return { bytes, gzipped: true, where: url };
}

/**
 * Returns the decompressed, verified bytes of every file by name. Throws, listing every
 * source and why it failed, when some file cannot be obtained.
 */
export async function obtainDataset(options: ObtainOptions): Promise<Map<string, Uint8Array>> {
  const sources = options.sources.map(parseSource);
  const failures = new Map<Source, string>();
  const data = new Map<string, Uint8Array>();
  for (const file of options.files) {
    for (const source of sources) {
      if (failures.has(source)) continue;
      try {
        data.set(file.name, verifyFile(await fetchFrom(source, file, options), file));
        options.log(
          `${file.name}: verified sha256 ${file.sha256.slice(0, 12)}… from ${
            describeSource(source)
          }`,
        );
        break;
      } catch (error) {
        const reason = (error as Error).message.split("\n")[0];
        failures.set(source, reason);
        options.log(`source ${describeSource(source)} skipped: ${reason}`);
      }
    }
    if (!data.has(file.name)) {
      const tried = sources.map((source) =>
        `  - ${describeSource(source)}: ${failures.get(source)}`
      );
      throw new Error(
        `could not obtain ${file.name} from any source:\n${tried.join("\n")}\n${HOW_TO_FIX}`,
      );
    }
  }
  checkPairs(options.files, data);
  return data;
}
