/**
 * A mistake on the command line (unknown name, missing file, bad option value): the CLI prints
 * its message without a stack trace and exits with status 2.
 *
 * @module
 */

/** A user-facing usage error. */
export class UsageError extends Error {
  override name = "UsageError";
}
