/**
 * A stage's resources in a config: its kind's defaults (`resources()` in `kind.ts`) overridden
 * key by key by the stage's `resources:` block (or `--set stages.NAME.resources.KEY=…`), parsed
 * and checked, with errors naming the file, line and key. Resources never enter the cache key.
 *
 * @module
 */
import { join } from "node:path";
import type { StageResources } from "../stage_kind.ts";
import { parseResources, ResourceError, type Resources } from "../scheduler/slurm/resources.ts";
import { ConfigError, didYouMean, oneOf, show } from "./errors.ts";
import type { ConfigSource } from "./source.ts";

/** The keys a `resources:` block may have. */
export const RESOURCE_KEYS = ["cpus", "mem", "time", "gpus", "partition", "account", "extra"];

/** What `stageResources` needs to know about the stage. */
export interface StageResourcesInput {
  src: ConfigSource;
  stage: string;
  /** The stage's `resources:` value as written (or set). */
  raw: unknown;
  /** What the kind's `resources(params)` declared for the stage's params. */
  defaults: StageResources | undefined;
  kindDir: string;
}

/** The stage's resources: the kind's defaults, then the config's keys on top. */
export function stageResources(o: StageResourcesInput): Resources {
  const at = ["stages", o.stage, "resources"];
  const where = at.join(".");
  let defaults: Resources;
  try {
    defaults = parseResources(o.defaults, `resources() of ${o.kindDir}`);
  } catch (e) {
    if (!(e instanceof ResourceError)) throw e;
    throw new ConfigError(
      o.src.originOf(["stages", o.stage, "uses"]),
      `stages.${o.stage}.uses`,
      `the kind's default ${e.message}; fix ${join(o.kindDir, "kind.ts")}`,
    );
  }
  if (o.raw === undefined || o.raw === null) return defaults;
  if (typeof o.raw !== "object" || Array.isArray(o.raw)) {
    throw new ConfigError(
      o.src.originOf(at),
      where,
      `found ${show(o.raw)}; expected a map like { cpus: 2, mem: 4G, time: 20m }`,
    );
  }
  const overrides: Resources = {};
  for (const [key, value] of Object.entries(o.raw)) {
    if (!RESOURCE_KEYS.includes(key)) {
      throw new ConfigError(
        o.src.originOf([...at, key]),
        `${where}.${key}`,
        `unknown resource "${key}"; expected ${oneOf(RESOURCE_KEYS)}${
          didYouMean(key, RESOURCE_KEYS)
        }`,
      );
    }
    try {
      Object.assign(overrides, parseResources({ [key]: value }, where));
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      const prefix = `${where}.${key}: `;
      const problem = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
      throw new ConfigError(o.src.originOf([...at, key]), `${where}.${key}`, problem);
    }
  }
  return { ...defaults, ...overrides };
}
