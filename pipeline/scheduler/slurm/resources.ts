/**
 * A stage's cluster resources as a config writes them (`resources: { cpus: 2, mem: 4G,
 * time: 20m, … }`), parsed into checked numbers, with errors that name the key and the bad value.
 *
 * @module
 */

/** Resources as written in a config or by `--set` (strings or numbers). */
export interface ResourceSpec {
  /** CPUs for the one task (`--cpus-per-task`), a positive integer. */
  cpus?: number | string;
  /** Memory for the job: `4G`, `512M`, `1.5G`, `2T`; a bare number is megabytes (as in Slurm). */
  mem?: number | string;
  /** Wall-clock limit: `20m`, `90s`, `2h`, `1d`, `1h30m`, `1:00:00`, `2-00:00:00`; a bare number is minutes (as in Slurm). */
  time?: number | string;
  /** GPUs (`--gpus`), a non-negative integer. */
  gpus?: number | string;
  /** The partition (`--partition`). */
  partition?: string;
  /** The account to charge (`--account`). */
  account?: string;
  /** Further sbatch options, separated by spaces, e.g. `"--qos=long --constraint=a100"`. */
  extra?: string;
}

/** Parsed resources; absent fields leave the cluster's default. */
export interface Resources {
  cpus?: number;
  memMb?: number;
  timeSeconds?: number;
  gpus?: number;
  partition?: string;
  account?: string;
  extra?: string[];
}

/** A resource value that cannot be understood; the message names where, the key and the value. */
export class ResourceError extends Error {
  override name = "ResourceError";
}

const MB_PER_UNIT: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };
const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const KEYS = new Set(["cpus", "mem", "time", "gpus", "partition", "account", "extra"]);

/** Parses a memory size (`4G`, `512M`, `1.5G`, `100K`, `2T`; a bare number is MB) into whole megabytes, rounded up. */
export function parseMemory(value: number | string, where = "mem"): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])?B?$/i.exec(text);
  const mb = m ? Number(m[1]) * MB_PER_UNIT[(m[2] ?? "M").toUpperCase()] : NaN;
  if (!m || !(mb > 0)) {
    throw new ResourceError(
      `${where}: "${text}" is not a memory size; write e.g. 4G, 512M or 1.5G (a bare number is MB)`,
    );
  }
  return Math.ceil(mb);
}

/**
 * Parses a duration into seconds: unit form (`90s`, `20m`, `2h`, `1d`, `1h30m`), Slurm's clock
 * forms (`MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`), or a bare number of minutes.
 */
export function parseDuration(value: number | string, where = "time"): number {
  const text = String(value).trim();
  const seconds = unitDuration(text) ?? clockDuration(text);
  if (seconds === undefined || !(seconds > 0)) {
    throw new ResourceError(
      `${where}: "${text}" is not a duration; write e.g. 20m, 2h, 1h30m, 1:00:00 or 2-00:00:00 (a bare number is minutes)`,
    );
  }
  return seconds;
}

/** `90s`, `20m`, `1h30m`, `1d`, or a bare number of minutes. */
function unitDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 60);
  if (!/^(\d+(\.\d+)?[smhd])+$/i.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/gi)) {
    total += Number(n) * SECONDS_PER_UNIT[unit.toLowerCase()];
  }
  return Math.round(total);
}

/** Slurm's `[D-]HH:MM:SS`, `MM:SS`, `D-HH`, `D-HH:MM`. */
function clockDuration(text: string): number | undefined {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, days, a, b, c] = m;
  const nums = [a, b, c].filter((x) => x !== undefined).map(Number);
  if (nums.slice(1).some((n) => n >= 60)) return undefined;
  let h = 0, min = 0, s = 0;
  if (days !== undefined) [h, min = 0, s = 0] = nums;
  else if (nums.length === 3) [h, min, s] = nums;
  else if (nums.length === 2) [min, s] = nums;
  else return undefined; // a bare number is handled as minutes by unitDuration
  return Number(days ?? 0) * 86400 + h * 3600 + min * 60 + s;
}

/** Formats seconds as Slurm's `D-HH:MM:SS` (Slurm rounds a limit up to whole minutes). */
export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor((seconds % 86400) / 3600))}:${
    pad(Math.floor((seconds % 3600) / 60))
  }:${pad(seconds % 60)}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

function parseCount(value: number | string, where: string, min: number): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min)) {
    throw new ResourceError(`${where}: "${text}" is not a whole number ≥ ${min}`);
  }
  return n;
}

function parseName(value: unknown, where: string): string {
  const text = String(value).trim();
  if (!/^[A-Za-z0-9_.,:+-]+$/.test(text)) {
    throw new ResourceError(
      `${where}: "${text}" is not a Slurm name (letters, digits, _ . , : + -)`,
    );
  }
  return text;
}

function parseExtra(value: unknown, where: string): string[] {
  const text = String(value).trim();
  if (/['"\\]/.test(text)) {
    throw new ResourceError(
      `${where}: "${text}" has quotes or backslashes; extra options are split on spaces and passed to sbatch as they are (no shell), so write --constraint=a|b without quotes`,
    );
  }
  const words = text.split(/\s+/).filter((w) => w !== "");
  const bad = words.find((w) => !w.startsWith("-"));
  if (bad !== undefined) {
    throw new ResourceError(
      `${where}: "${bad}" is not an sbatch option; write each as --name=value`,
    );
  }
  return words;
}

/**
 * Checks and parses a `resources` block. `where` prefixes every error (e.g.
 * `configs/paper.yaml: stages.train_llgae.resources`), so a message reads
 * `configs/paper.yaml: stages.train_llgae.resources.mem: "4Q" is not a memory size; …`.
 */
export function parseResources(raw: unknown, where = "resources"): Resources {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ResourceError(`${where}: expected a mapping like { cpus: 2, mem: 4G, time: 20m }`);
  }
  const spec = raw as Record<string, unknown>;
  const unknown = Object.keys(spec).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) {
    throw new ResourceError(
      `${where}: unknown key ${unknown.map((k) => `"${k}"`).join(", ")}; known: ${
        [...KEYS].join(", ")
      }`,
    );
  }
  const scalar = (key: string): number | string => {
    const v = spec[key];
    if (typeof v !== "number" && typeof v !== "string") {
      throw new ResourceError(
        `${where}.${key}: expected a number or a string, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const out: Resources = {};
  if (spec.cpus !== undefined) out.cpus = parseCount(scalar("cpus"), `${where}.cpus`, 1);
  if (spec.mem !== undefined) out.memMb = parseMemory(scalar("mem"), `${where}.mem`);
  if (spec.time !== undefined) out.timeSeconds = parseDuration(scalar("time"), `${where}.time`);
  if (spec.gpus !== undefined) out.gpus = parseCount(scalar("gpus"), `${where}.gpus`, 0);
  if (spec.partition !== undefined) {
    out.partition = parseName(scalar("partition"), `${where}.partition`);
  }
  if (spec.account !== undefined) out.account = parseName(scalar("account"), `${where}.account`);
  if (spec.extra !== undefined) out.extra = parseExtra(scalar("extra"), `${where}.extra`);
  return out;
}
