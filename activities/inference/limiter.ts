// Per-endpoint admission control: at most `maxConcurrency` requests in flight (FIFO queue, p-limit style) and,
// optionally, at most `requestsPerSecond` request starts per second (a GCRA token bucket with burst `burst`).
// One limiter per endpoint per process; the inference client takes a slot per HTTP attempt and gives it back
// before sleeping for a retry, so backing-off calls never hold capacity.
import { abortReason, sleep } from './abortable';

export interface LimiterOptions {
  /** Requests in flight at once. */
  maxConcurrency: number;
  /** Request starts per second; 0 or undefined = unlimited. */
  requestsPerSecond?: number;
  /** How many starts may happen back to back after an idle period (default 1: evenly spaced starts). */
  burst?: number;
}

/** Gives the slot back; calling it more than once is harmless. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  cancelled: boolean;
}

export class Limiter {
  readonly maxConcurrency: number;
  readonly requestsPerSecond: number;
  readonly burst: number;
  private activeCount = 0;
  private queue: Array<Waiter | undefined> = [];
  private head = 0;
  private queued = 0;
  /** GCRA "theoretical arrival time" of the next start, in ms (performance.now clock). */
  private tat = 0;
  private maxActiveSeen = 0;

  constructor(options: LimiterOptions) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be a positive integer, got ${options.maxConcurrency}`);
    }
    const rps = options.requestsPerSecond ?? 0;
    if (!(rps >= 0) || !Number.isFinite(rps)) throw new RangeError(`requestsPerSecond must be >= 0, got ${rps}`);
    const burst = options.burst ?? 1;
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be a positive integer, got ${burst}`);
    this.maxConcurrency = options.maxConcurrency;
    this.requestsPerSecond = rps;
    this.burst = burst;
  }

  /** Requests holding a slot now. */
  get active(): number {
    return this.activeCount;
  }

  /** Requests waiting for a slot. */
  get pending(): number {
    return this.queued;
  }

  /** The largest number of slots held at once so far. */
  get maxActive(): number {
    return this.maxActiveSeen;
  }

  /**
   * Waits for a concurrency slot, then for the rate limiter; resolves with the function that gives the slot back.
   * Rejects with the signal's reason when the signal aborts while waiting (nothing is held then).
   */
  async acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) throw abortReason(signal);
    const release =
      this.activeCount < this.maxConcurrency && this.queued === 0 ? this.take() : await this.enqueue(signal);
    if (this.requestsPerSecond > 0) {
      try {
        await this.waitForRate(signal);
      } catch (err) {
        release();
        throw err;
      }
    }
    return release;
  }

  /** Runs `fn` holding a slot. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private take(): Release {
    this.activeCount++;
    if (this.activeCount > this.maxActiveSeen) this.maxActiveSeen = this.activeCount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeCount--;
      this.dispatch();
    };
  }

  private enqueue(signal?: AbortSignal): Promise<Release> {
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, cancelled: false };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.cancelled) return;
          waiter.cancelled = true;
          this.queued--;
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.queued++;
    });
  }

  private dispatch(): void {
    while (this.activeCount < this.maxConcurrency && this.head < this.queue.length) {
      const waiter = this.queue[this.head];
      this.queue[this.head] = undefined;
      this.head++;
      if (!waiter || waiter.cancelled) continue;
      waiter.cancelled = true;
      this.queued--;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.take());
    }
    // Compact the queue now and then so that it does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private waitForRate(signal?: AbortSignal): Promise<void> {
    const interval = 1000 / this.requestsPerSecond;
    const tolerance = (this.burst - 1) * interval;
    const now = performance.now();
    const start = Math.max(now, this.tat - tolerance);
    this.tat = Math.max(this.tat, start) + interval;
    const delay = start - now;
    if (delay <= 0.5) return Promise.resolve();
    return sleep(delay, signal);
  }
}
