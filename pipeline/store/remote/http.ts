/**
 * One remote-cache request: a per-attempt timeout (`AbortSignal.timeout`, covering the
 * response body too), a bounded retry with doubling back-off for 5xx answers and dropped
 * connections, and every failure turned into a typed `RemoteError` naming the URL.
 *
 * @module
 */
import { RemoteHttpError, RemoteTimeoutError, RemoteUnreachableError } from "./errors.ts";

/** How long to wait and how often to retry. */
export interface RequestPolicy {
  /** Each attempt (request and body) is abandoned after this long. */
  timeoutMs: number;
  /** Extra attempts after a 5xx answer or a dropped connection. */
  retries: number;
  /** Wait before the first retry; doubled for each further one. */
  backoffMs: number;
  /** Called before each retry with the reason of the failed attempt. */
  onRetry?(reason: string, attempt: number, waitMs: number): void;
}

/** A non-success status seen by an attempt; `withRetry` turns it into a `RemoteHttpError`. */
class StatusFailure extends Error {
  status: number;
  statusText: string;
  constructor(status: number, statusText: string) {
    super(`HTTP ${status} ${statusText}`.trim());
    this.status = status;
    this.statusText = statusText;
  }
}

/**
 * Throws (for `withRetry` to report) unless `response.status` is one of `accepted`; the body
 * of a rejected response is discarded.
 */
export async function expectStatus(response: Response, accepted: number[]): Promise<void> {
  if (accepted.includes(response.status)) return;
  await response.body?.cancel();
  throw new StatusFailure(response.status, response.statusText);
}

/** Network errors a second attempt may get past: the connection broke, not "nobody there". */
const TRANSIENT = /reset|broken pipe|closed|incomplete|unexpected eof|aborted by peer/i;

/** The innermost message of an error's `cause` chain, without fetch's "error sending…" prefix. */
function networkReason(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  const text = current instanceof Error ? current.message : String(current);
  return text.replace(/^error sending request for url \([^)]*\):\s*/, "").split("\n")[0];
}

/**
 * Runs `attempt` (one request with its body handling) until it succeeds or fails for good.
 * `attempt` gets the abort signal of its timeout and reports bad statuses with `expectStatus`.
 * Errors that are not network or status failures (a digest mismatch, a disk error) are not
 * retried and pass through unchanged.
 */
export async function withRetry<T>(
  request: { url: string; method: string; policy: RequestPolicy },
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { url, method, policy } = request;
  for (let tries = 1;; tries++) {
    const signal = AbortSignal.timeout(policy.timeoutMs);
    let reason: string;
    try {
      return await attempt(signal);
    } catch (error) {
      if (signal.aborted) throw new RemoteTimeoutError({ url, timeoutMs: policy.timeoutMs });
      if (error instanceof StatusFailure) {
        if (error.status < 500 || tries > policy.retries) {
          const { status, statusText } = error;
          throw new RemoteHttpError({ url, method, status, statusText, attempts: tries });
        }
        reason = error.message;
      } else if (error instanceof TypeError) { // fetch's network failures
        reason = networkReason(error);
        if (!TRANSIENT.test(reason) || tries > policy.retries) {
          throw new RemoteUnreachableError({ url, reason, attempts: tries, cause: error });
        }
      } else {
        throw error;
      }
    }
    const waitMs = policy.backoffMs * 2 ** (tries - 1);
    policy.onRetry?.(`${method} ${url}: ${reason}`, tries, waitMs);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
