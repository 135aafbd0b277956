/**
 * Command-line overrides: `--set stages.NAME.with.KEY=VALUE`, typed by YAML scalar rules.
 *
 * @module
 */
import { parse } from "yaml";
import { ConfigError } from "./errors.ts";

/** One parsed `--set` argument. */
export interface SetOverride {
  /** The argument as given, for error messages. */
  arg: string;
  /** Key path, e.g. `["stages", "train", "with", "steps"]`. */
  path: string[];
  /** The value, typed as YAML would type it (`3` → number, `[1,2]` → list, `true` → boolean). */
  value: unknown;
}

const FORMS =
  "stages.NAME.with.KEY=VALUE, stages.NAME.needs.INPUT=STAGE, stages.NAME.uses=KIND or stages.NAME.resources.KEY=VALUE";

/**
 * Parses one `--set` argument. `file` is the config it applies to, named in errors.
 * Throws a ConfigError for anything but the three accepted forms.
 */
export function parseSet(arg: string, file: string): SetOverride {
  const origin = { file, set: arg };
  const eq = arg.indexOf("=");
  if (eq < 0) {
    throw new ConfigError(origin, undefined, `bad --set: no "=" found; expected ${FORMS}`);
  }
  const key = arg.slice(0, eq).trim();
  const path = key.split(".");
  const [root, , field] = path;
  const shapeOk = root === "stages" && path.length >= 3 && !path.some((p) => p === "") &&
    ((field === "with" && path.length >= 4) || (field === "needs" && path.length === 4) ||
      (field === "resources" && path.length === 4) ||
      (field === "uses" && path.length === 3));
  if (!shapeOk) {
    throw new ConfigError(origin, key, `bad --set key "${key}"; expected ${FORMS}`);
  }
  let value: unknown;
  try {
    value = parse(arg.slice(eq + 1));
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    throw new ConfigError(
      origin,
      key,
      `bad --set value: ${reason}; expected a YAML scalar or flow list/map`,
    );
  }
  return { arg, path, value };
}
