/**
 * The error type of config loading, and the wording helpers its messages share.
 *
 * @module
 */

/** Where a config value came from: a YAML file (with its line, when known) or a `--set`. */
export interface Origin {
  /** The YAML file, as the user named it (or as `extends:` resolved it). */
  file: string;
  /** 1-based line of the key or item in `file`. */
  line?: number;
  /** The `--set` argument the value came from, when it came from the command line. */
  set?: string;
}

/**
 * A config that cannot run. The message starts with `file:line` (or `--set …`), then the
 * dotted key path, what was found and what was expected.
 */
export class ConfigError extends Error {
  /** The YAML file the problem is in (the top config for `--set` problems). */
  file: string;
  /** 1-based line in `file`, when the problem has a position there. */
  line?: number;
  /** Dotted key path of the offending value, e.g. `stages.train.with.steps`. */
  key?: string;

  constructor(origin: Origin, key: string | undefined, problem: string) {
    super(`${where(origin)}: ${key ? `${key}: ` : ""}${problem}`);
    this.name = "ConfigError";
    this.file = origin.file;
    this.line = origin.set === undefined ? origin.line : undefined;
    this.key = key;
  }
}

/** `file:line`, `file`, or `--set x=y (on top of file)` for an origin. */
function where(origin: Origin): string {
  if (origin.set !== undefined) return `--set ${origin.set} (on top of ${origin.file})`;
  return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
}

/** A short, single-line rendering of a found value for error messages. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text =
    JSON.stringify(value, (_, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v) ??
      String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `one of: a, b, c` or `nothing (none are defined)` for an expected-name list. */
export function oneOf(names: readonly string[]): string {
  return names.length === 0 ? "nothing (none are defined)" : `one of: ${names.join(", ")}`;
}

/** ` (did you mean "x"?)` when a known name is close to `name`, else the empty string. */
export function didYouMean(name: string, known: readonly string[]): string {
  const best = closest(name, known);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/** The known name nearest to `name` by edit distance, if it is plausibly a misspelling. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const limit = Math.max(1, Math.floor(Math.max(name.length, 3) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
