/**
 * Fetching one file over HTTP(S) with an inactivity timeout, retries with exponential
 * back-off for transient failures, and byte progress.
 *
 * @module
 */

/** How to fetch. */
export interface FetchOptions {
  /** The request fails when no byte (or no response) arrives for this long. */
  timeoutMs: number;
  /** Extra attempts after a transient failure. */
  retries: number;
  /** Wait before the first retry; doubled for each further one. */
  backoffMs: number;
  /** Called as bytes arrive; `total` is the Content-Length when the server sends one. */
  onProgress?(received: number, total: number | undefined): void;
  /** Called before each retry with the reason of the failed attempt. */
  onRetry?(reason: string, attempt: number, waitMs: number): void;
}

/** A failed fetch; `transient` failures are worth retrying. */
export class FetchError extends Error {
  /** Whether a retry may succeed (5xx, dropped connection, timeout, refused connection). */
  transient: boolean;
  constructor(message: string, transient: boolean) {
    super(message);
    this.name = "FetchError";
    this.transient = transient;
  }
}

/** The innermost message of an error's `cause` chain, without fetch's "error sending…" prefix. */
function rootMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  const text = current instanceof Error ? current.message : String(current);
  return text.replace(/^error sending request for url \([^)]*\):\s*/, "").split("\n")[0];
}

/** Fetches `url` once; throws `FetchError`. */
async function fetchOnce(url: string, options: FetchOptions): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.timeoutMs);
  };
  const fail = (error: unknown): never => {
    if (error instanceof FetchError) throw error;
    if (controller.signal.aborted) {
      throw new FetchError(`no data for ${options.timeoutMs} ms (timeout_ms)`, true);
    }
    const message = rootMessage(error);
    throw new FetchError(
      message,
      !/dns error|lookup address|certificate|invalid url/i.test(message),
    );
  };
  arm();
  try {
    const response = await fetch(url, { signal: controller.signal }).catch(fail);
    if (!response.ok) {
      await response.body?.cancel();
      const transient = response.status >= 500 || response.status === 408 ||
        response.status === 429;
      throw new FetchError(`HTTP ${response.status} ${response.statusText}`.trim(), transient);
    }
    const header = response.headers.get("content-length");
    const total = header === null ? undefined : Number(header);
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body!.getReader();
    for (;;) {
      arm();
      const { done, value } = await reader.read().catch(fail);
      if (done) break;
      chunks.push(value);
      received += value.length;
      options.onProgress?.(received, total);
    }
    if (total !== undefined && received !== total) {
      throw new FetchError(`connection closed after ${received} of ${total} bytes`, true);
    }
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  } catch (error) {
    return fail(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fetches `url`, retrying transient failures with back-off. Throws a `FetchError` whose
 * message is one line: the last reason and the number of attempts.
 */
export async function fetchWithRetry(url: string, options: FetchOptions): Promise<Uint8Array> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fetchOnce(url, options);
    } catch (error) {
      const failure = error as FetchError;
      if (!failure.transient || attempt > options.retries) {
        const tries = attempt === 1 ? "" : ` (${attempt} attempts)`;
        throw new FetchError(`${failure.message}${tries}`, failure.transient);
      }
      const waitMs = options.backoffMs * 2 ** (attempt - 1);
      options.onRetry?.(failure.message, attempt, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
