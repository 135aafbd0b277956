/**
 * A config's optional top-level `executor:` block: which executor runs its stages and how,
 *
 * ```yaml
 * executor: { name: slurm, poll: { min: 0.25, max: 5 }, partition: short, account: mylab }
 * ```
 *
 * `partition`, `account` and `extra` are the defaults of every stage's resources. The command
 * line's `--executor` wins over `name`. Not part of the config digest or any cache key.
 *
 * @module
 */
import { parseResources, ResourceError, type Resources } from "../scheduler/slurm/resources.ts";
import { ConfigError, didYouMean, oneOf, show } from "./errors.ts";
import type { ConfigSource } from "./source.ts";

/** The executors a run can use. */
export const EXECUTORS = ["local", "slurm"] as const;

/** An executor name. */
export type ExecutorName = typeof EXECUTORS[number];

/** The parsed `executor:` block. */
export interface ExecutorConfig {
  name?: ExecutorName;
  /** Slurm poll timing, in milliseconds. */
  poll?: { minIntervalMs?: number; maxIntervalMs?: number; growth?: number };
  /** Resource defaults for every stage (partition, account, extra). */
  defaults: Resources;
}

const KEYS = ["name", "poll", "partition", "account", "extra"];
const POLL_KEYS = ["min", "max", "growth"];

/** Checks and parses the block; undefined when the config has none. */
export function parseExecutorBlock(src: ConfigSource): ExecutorConfig | undefined {
  const raw = src.value.executor;
  if (raw === undefined || raw === null) return undefined;
  const fail = (path: string[], problem: string): never => {
    throw new ConfigError(src.originOf(path), path.join("."), problem);
  };
  if (!isMap(raw)) {
    fail(["executor"], `found ${show(raw)}; expected a map like { name: slurm, partition: short }`);
  }
  const block = raw as Record<string, unknown>;
  for (const key of Object.keys(block)) {
    if (!KEYS.includes(key)) {
      fail(
        ["executor", key],
        `unknown key "${key}"; expected ${oneOf(KEYS)}${didYouMean(key, KEYS)}`,
      );
    }
  }
  const config: ExecutorConfig = { defaults: {} };
  if (block.name !== undefined) {
    if (!EXECUTORS.includes(block.name as ExecutorName)) {
      fail(["executor", "name"], `found ${show(block.name)}; expected ${oneOf(EXECUTORS)}`);
    }
    config.name = block.name as ExecutorName;
  }
  if (block.poll !== undefined) config.poll = parsePoll(block.poll, fail);
  for (const key of ["partition", "account", "extra"]) {
    if (block[key] === undefined) continue;
    try {
      Object.assign(config.defaults, parseResources({ [key]: block[key] }, "executor"));
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      fail(["executor", key], e.message.replace(`executor.${key}: `, ""));
    }
  }
  return config;
}

/** `poll: { min: 0.25, max: 5, growth: 1.5 }` (seconds, seconds, factor). */
function parsePoll(
  raw: unknown,
  fail: (path: string[], problem: string) => never,
): NonNullable<ExecutorConfig["poll"]> {
  if (!isMap(raw)) {
    fail(
      ["executor", "poll"],
      `found ${show(raw)}; expected { min: 0.25, max: 5, growth: 1.5 } (seconds)`,
    );
  }
  const poll = raw as Record<string, unknown>;
  const out: NonNullable<ExecutorConfig["poll"]> = {};
  for (const [key, value] of Object.entries(poll)) {
    const path = ["executor", "poll", key];
    if (!POLL_KEYS.includes(key)) {
      fail(path, `unknown key "${key}"; expected ${oneOf(POLL_KEYS)}${didYouMean(key, POLL_KEYS)}`);
    }
    const ok = typeof value === "number" && value > 0 && (key !== "growth" || value >= 1);
    if (!ok) {
      fail(
        path,
        `found ${show(value)}; expected ${key === "growth" ? "a factor ≥ 1" : "seconds > 0"}`,
      );
    }
    const n = value as number;
    if (key === "min") out.minIntervalMs = n * 1000;
    else if (key === "max") out.maxIntervalMs = n * 1000;
    else out.growth = n;
  }
  if ((out.minIntervalMs ?? 0) > (out.maxIntervalMs ?? Infinity)) {
    fail(["executor", "poll"], "min is above max; expected min ≤ max");
  }
  return out;
}

function isMap(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
