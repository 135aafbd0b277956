/**
 * The `download` stage kind: the four Fashion-MNIST idx files, decompressed and verified by
 * sha256, from the first source in `sources` that has them intact.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";
import { DEFAULT_SOURCES, FASHION_MNIST } from "./fashion_mnist.ts";
import { parseSource } from "./sources.ts";

const sourceText = z.string().min(1).superRefine((text, ctx) => {
  try {
    parseSource(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** Hosts a source host is known to redirect file downloads to (GitHub's raw files). */
const REDIRECT_HOSTS: Record<string, string[]> = { "github.com": ["raw.githubusercontent.com"] };

/** Params of `download` (`with:`). */
export const downloadParams = z.strictObject({
  /** Tried in order; see `sources.ts` for the accepted forms. */
  sources: z.array(sourceText).min(1).default([...DEFAULT_SOURCES]),
  /** An HTTP request fails when no byte arrives for this long. */
  timeout_ms: z.int().positive().default(15_000),
  /** Extra attempts per file after a transient HTTP failure (5xx, dropped connection, timeout). */
  retries: z.int().min(0).max(10).default(2),
  /** Wait before the first retry; doubled for each further one. */
  backoff_ms: z.int().min(0).default(500),
});

/** Validated params of `download`. */
export type DownloadParams = z.infer<typeof downloadParams>;

/** The `download` stage kind. */
export const kind: StageKind<DownloadParams> = {
  description: "Fashion-MNIST idx files, decompressed and verified by sha256 (web or local mirror)",
  params: downloadParams,
  inputs: {},
  outputs: () => FASHION_MNIST.map((file) => file.name),
  keyNeutralParams: ["sources", "timeout_ms", "retries", "backoff_ms"],
  permissions(params) {
    const sources = params.sources.map(parseSource);
    return {
      // Only the hosts of its http(s) sources (host:port as in the URL), and where they redirect.
      net: [
        ...new Set(sources.flatMap((s) => {
          if (s.type !== "http") return [];
          const host = new URL(s.url).host;
          return [host, ...(REDIRECT_HOSTS[host] ?? [])];
        })),
      ],
      read: sources.flatMap((source) => source.type === "dir" ? [source.dir] : []),
    };
  },
};
