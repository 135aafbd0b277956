/**
 * The typed failures of the HTTP remote cache. Every message names the URL (and the digest
 * where one is involved), so a warning or an error is enough to find the bad object.
 *
 * `isRemoteUnavailable` tells the engine which failures mean "the remote is not usable right
 * now" (it warns in one line and goes on locally) from those that mean "the remote holds or
 * was sent something wrong".
 *
 * @module
 */

/** Base class of every remote-cache failure. */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** The URL of the request that failed. */
  readonly url: string;
  constructor(url: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
  }
}

/** Nothing answered: connection refused or reset, unknown host, TLS failure. */
export class RemoteUnreachableError extends RemoteError {
  override name = "RemoteUnreachableError";
  /** The network-level reason, e.g. "Connection refused (os error 111)". */
  readonly reason: string;
  constructor(options: { url: string; reason: string; attempts: number; cause?: unknown }) {
    const tries = options.attempts > 1 ? ` (${options.attempts} attempts)` : "";
    super(
      options.url,
      `remote cache unreachable: ${options.url}: ${options.reason}${tries}`,
      { cause: options.cause },
    );
    this.reason = options.reason;
  }
}

/** The server did not finish answering within the per-request timeout. */
export class RemoteTimeoutError extends RemoteError {
  override name = "RemoteTimeoutError";
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  constructor(options: { url: string; timeoutMs: number }) {
    super(
      options.url,
      `remote cache timed out: ${options.url}: no complete answer within ${options.timeoutMs} ms`,
    );
    this.timeoutMs = options.timeoutMs;
  }
}

/** The server answered with a 4xx or 5xx status (5xx after the retries ran out). */
export class RemoteHttpError extends RemoteError {
  override name = "RemoteHttpError";
  /** The HTTP status code. */
  readonly status: number;
  constructor(
    options: { url: string; method: string; status: number; statusText: string; attempts: number },
  ) {
    const tries = options.attempts > 1 ? ` (${options.attempts} attempts)` : "";
    const hint = options.status === 405 || options.status === 403
      ? "; does the server allow PUT (nginx: dav_methods PUT)?"
      : options.status === 413
      ? "; raise the server's body limit (nginx: client_max_body_size 0)"
      : "";
    super(
      options.url,
      `remote cache ${options.method} ${options.url}: HTTP ${options.status} ${options.statusText}`
        .trim() + tries + hint,
    );
    this.status = options.status;
  }
}

/** A downloaded blob's bytes do not hash to the digest it is stored under; nothing was kept. */
export class RemoteDigestMismatchError extends RemoteError {
  override name = "RemoteDigestMismatchError";
  /** The sha256 the blob is stored under. */
  readonly expected: string;
  /** The sha256 of the bytes the server sent. */
  readonly actual: string;
  constructor(options: { url: string; expected: string; actual: string }) {
    super(
      options.url,
      `remote cache blob rejected: ${options.url}: the bytes hash to sha256 ${options.actual}, ` +
        `expected ${options.expected}; not stored (the server copy is corrupt or was tampered with)`,
    );
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** A record was about to be written while some of its blobs are not on the server. */
export class RemoteMissingBlobsError extends RemoteError {
  override name = "RemoteMissingBlobsError";
  /** The digests the server does not have. */
  readonly missing: string[];
  constructor(options: { url: string; missing: string[] }) {
    super(
      options.url,
      `remote cache record not written: ${options.url}: ${options.missing.length} of its blobs ` +
        `are missing on the server: ${options.missing.join(", ")}`,
    );
    this.missing = options.missing;
  }
}

/**
 * Whether `error` means the remote cannot be used right now (unreachable, too slow, 5xx), so
 * the caller should warn once and go on without it.
 */
export function isRemoteUnavailable(error: unknown): boolean {
  return error instanceof RemoteUnreachableError || error instanceof RemoteTimeoutError ||
    (error instanceof RemoteHttpError && error.status >= 500);
}
