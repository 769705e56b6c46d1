/**
 * A request attempt's deadline without an AbortSignal: fetch following a signal costs more CPU per
 * request than everything else the client runtime does (listener bookkeeping and a finalizer per
 * request). The deadline is instead one timer plus a dispatcher in front of the pooled agent: it sees
 * the request's undici handler, keeps the abort function undici hands over when the request is written,
 * and on expiry aborts the request there (response headers or body still pending) or, before the
 * request reached a socket (queued, connecting), fails the handler itself and aborts the request when
 * undici gets to it. Either way fetch, or the body being read, fails with a TimeoutError.
 */

/** What undici's dispatch needs from a dispatcher and a handler (the parts used here). */
interface Handler {
  onConnect(abort: (err?: Error) => void, context?: unknown): void;
  onError(err: Error): void;
  onUpgrade?(...args: unknown[]): void;
  onResponseStarted?(): void;
  onHeaders?(...args: unknown[]): boolean | undefined;
  onData?(chunk: unknown): boolean | undefined;
  onComplete?(trailers: unknown): void;
  onBodySent?(...args: unknown[]): void;
  onRequestSent?(): void;
}
interface Dispatcher {
  dispatch(opts: unknown, handler: Handler): boolean;
}

const timeoutError = (): Error => new DOMException("The operation timed out.", "TimeoutError");

/** Forwards the handler's events; fails it on expiry. */
class Hook implements Handler {
  private abort: ((err?: Error) => void) | null = null;
  /** The inner handler got its last event (completed, failed, upgraded). */
  private done = false;
  /** Failed by the deadline before undici had a way to abort: events from undici are dropped. */
  private cut: Error | null = null;
  constructor(private readonly inner: Handler) {}

  expire(): void {
    if (this.done) return;
    const e = timeoutError();
    if (this.abort) return this.abort(e); // undici calls onError(e)
    this.cut = e;
    this.done = true;
    this.inner.onError(e);
  }
  onConnect(abort: (err?: Error) => void, context?: unknown): void {
    if (this.cut) return abort(this.cut);
    this.abort = abort;
    this.inner.onConnect(abort, context);
  }
  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.inner.onError(err);
  }
  onComplete(trailers: unknown): void {
    if (this.done) return;
    this.done = true;
    this.inner.onComplete?.(trailers);
  }
  onUpgrade(...args: unknown[]): void {
    if (this.done) return;
    this.done = true;
    this.inner.onUpgrade?.(...args);
  }
  onResponseStarted(): void {
    if (!this.cut) this.inner.onResponseStarted?.();
  }
  onHeaders(...args: unknown[]): boolean | undefined {
    return this.cut ? false : this.inner.onHeaders?.(...args);
  }
  onData(chunk: unknown): boolean | undefined {
    return this.cut ? false : this.inner.onData?.(chunk);
  }
  onBodySent(...args: unknown[]): void {
    if (!this.cut) this.inner.onBodySent?.(...args);
  }
  onRequestSent(): void {
    if (!this.cut) this.inner.onRequestSent?.();
  }
}

/**
 * One attempt's deadline. With `viaSignal` (a caller-supplied fetch, which may ignore the dispatcher)
 * it is an AbortSignal (`signal`); otherwise it is the dispatcher to pass to fetch (`dispatcher`).
 * `clear()` once the body has been read.
 */
export class Deadline implements Dispatcher {
  /** The deadline passed (the request was aborted with a TimeoutError). */
  expired = false;
  readonly signal: AbortSignal | undefined;
  readonly dispatcher: unknown;
  private readonly timer: ReturnType<typeof setTimeout>;
  private hook: Hook | null = null;

  constructor(
    private readonly agent: unknown,
    ms: number,
    viaSignal: boolean,
  ) {
    const ac = viaSignal ? new AbortController() : null;
    this.signal = ac?.signal;
    this.dispatcher = ac ? agent : this;
    this.timer = setTimeout(() => {
      this.expired = true;
      if (ac) ac.abort(timeoutError());
      else this.hook?.expire();
    }, ms);
  }

  dispatch(opts: unknown, handler: Handler): boolean {
    const hook = (this.hook = new Hook(handler));
    // Expired before fetch dispatched: fail at once (undici aborts the request when it is written).
    if (this.expired) queueMicrotask(() => hook.expire());
    return (this.agent as Dispatcher).dispatch(opts, hook);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
