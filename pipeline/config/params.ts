/**
 * Validation of a stage's `with:` params against its kind's zod schema, turning zod issues
 * into ConfigErrors that name the file, line and param.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError, didYouMean, oneOf, show } from "./errors.ts";
import type { ConfigSource } from "./source.ts";

type Issue = z.core.$ZodIssue;

/** One problem with a stage's `with:` params: the param's path under `with` and what is wrong. */
export interface ParamProblem {
  path: (string | number)[];
  text: string;
}

/** The params `schema` makes of `raw` (defaults applied), or its problems as plain data. */
export type ParamCheck = { ok: true; params: unknown } | { ok: false; problems: ParamProblem[] };

/**
 * Parses `raw` with `schema` (applying defaults). Problems are plain data (they cross from the
 * kind sandbox to the engine), unknown params first, since they often explain the rest.
 */
export function checkParams(schema: z.ZodType<unknown>, raw: unknown, uses: string): ParamCheck {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, params: result.data };
  const problems = result.error.issues
    .flatMap((issue) =>
      issue.code === "unrecognized_keys"
        ? issue.keys.map((k) => ({
          path: [...issue.path, k],
          text: unknownParam(schema, issue.path, k, uses),
        }))
        : [{ path: issue.path, text: describeIssue(issue, valueAt(raw, issue.path)) }]
    )
    .sort((a, b) => Number(b.text.startsWith("unknown")) - Number(a.text.startsWith("unknown")))
    .map(({ path, text }) => ({
      path: path.map((k) => typeof k === "number" ? k : String(k)),
      text,
    }));
  return { ok: false, problems };
}

/** Throws a ConfigError for the first problem, naming file, line and param, listing the others. */
export function failParams(src: ConfigSource, stage: string, problems: ParamProblem[]): never {
  const errors = problems.map(({ path, text }) => {
    const full = ["stages", stage, "with", ...path.map(String)];
    return new ConfigError(src.originOf(full), full.join("."), text);
  });
  const [first, ...rest] = errors;
  if (rest.length > 0) first.message += rest.map((e) => `\n  also ${e.message}`).join("");
  throw first;
}

function unknownParam(
  schema: z.ZodType<unknown>,
  at: PropertyKey[],
  key: string,
  uses: string,
): string {
  const known = Object.keys(shapeAt(schema, at) ?? {});
  return `unknown param "${key}" for kind "${uses}"; expected ${oneOf(known)}${
    didYouMean(key, known)
  }`;
}

function describeIssue(issue: Issue, found: unknown): string {
  if (issue.code === "invalid_type") {
    if (typeof found === "number" && !Number.isFinite(found)) {
      return `found ${show(found)}; expected a finite ${issue.expected} (.nan and .inf are ` +
        `not allowed here)`;
    }
    return found === undefined
      ? `missing required param; expected ${issue.expected}`
      : `found ${show(found)} (${typeName(found)}); expected ${issue.expected}`;
  }
  return `found ${show(found)}; ${issue.message}`;
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "list" : typeof v;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

interface SchemaParts {
  shape?: Record<string, unknown>;
  def?: { innerType?: unknown; in?: unknown; element?: unknown };
}

/** The object shape reached by following `path` into `schema`, through wrappers and lists. */
function shapeAt(
  schema: unknown,
  path: readonly PropertyKey[],
): Record<string, unknown> | undefined {
  let s = unwrap(schema);
  for (const k of path) {
    const parts = s as SchemaParts;
    const next = typeof k === "number" ? parts.def?.element : parts.shape?.[String(k)];
    if (next === undefined) return undefined;
    s = unwrap(next);
  }
  return (s as SchemaParts).shape;
}

function unwrap(schema: unknown): unknown {
  let s = schema as SchemaParts;
  while (s.def?.innerType !== undefined || (s.def?.in !== undefined && s.shape === undefined)) {
    s = (s.def.innerType ?? s.def.in) as SchemaParts;
  }
  return s;
}
