/**
 * The `sources` param of the download stage: each entry is an HTTP(S) base URL (the files are
 * fetched as `<base>/<name>.gz`), a `file://` URL, or a directory path (relative paths resolve
 * against the working directory of the run). Light (no I/O), so `kind.ts` can import it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** A parsed source. */
export type Source =
  | { type: "http"; url: string }
  | { type: "dir"; dir: string };

/** Parses one source text; throws naming the text and the accepted forms. */
export function parseSource(text: string): Source {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") {
    return { type: "http", url: text.replace(/\/+$/, "") };
  }
  if (scheme === "file") return { type: "dir", dir: fileURLToPath(text) };
  if (scheme !== undefined) {
    throw new Error(
      `download source ${JSON.stringify(text)}: scheme ${scheme}:// is not supported; ` +
        "use an http(s):// URL, a file:// URL or a directory path",
    );
  }
  return { type: "dir", dir: text };
}

/** A short human name of a source for logs and errors. */
export function describeSource(source: Source): string {
  return source.type === "http" ? source.url : `directory ${source.dir}`;
}
