// Token usage and request/retry/error counts, per inference client and process-wide per endpoint (cost accounting).
import type { FailureKind } from './errors';

export interface InferenceUsage {
  /** Calls made (chat / complete / scoreSpans / models), each possibly several HTTP attempts. */
  calls: number;
  succeeded: number;
  /** Calls that threw (after retries, or at once for non-retryable errors; cancellations excluded). */
  failed: number;
  /** Calls cancelled by the caller's signal. */
  cancelled: number;
  /** HTTP attempts made. */
  attempts: number;
  /** Attempts beyond the first of each call. */
  retries: number;
  /** Attempts that failed, by kind. */
  failedAttempts: number;
  failuresByKind: Partial<Record<FailureKind, number>>;
  /** Token usage as reported by the server (0 where a server does not report it). */
  promptTokens: number;
  completionTokens: number;
}

export function emptyUsage(): InferenceUsage {
  return {
    calls: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    attempts: 0,
    retries: 0,
    failedAttempts: 0,
    failuresByKind: {},
    promptTokens: 0,
    completionTokens: 0,
  };
}

function copyUsage(u: InferenceUsage): InferenceUsage {
  return { ...u, failuresByKind: { ...u.failuresByKind } };
}

/** Adds `b` into `a`. */
export function addUsage(a: InferenceUsage, b: InferenceUsage): InferenceUsage {
  a.calls += b.calls;
  a.succeeded += b.succeeded;
  a.failed += b.failed;
  a.cancelled += b.cancelled;
  a.attempts += b.attempts;
  a.retries += b.retries;
  a.failedAttempts += b.failedAttempts;
  a.promptTokens += b.promptTokens;
  a.completionTokens += b.completionTokens;
  for (const [kind, n] of Object.entries(b.failuresByKind) as Array<[FailureKind, number]>) {
    a.failuresByKind[kind] = (a.failuresByKind[kind] ?? 0) + n;
  }
  return a;
}

const processUsage = new Map<string, InferenceUsage>();

/** Counts for one client; every update also goes into the process-wide total under the same name. */
export class UsageCounter {
  private readonly own = emptyUsage();
  private readonly global: InferenceUsage;

  constructor(readonly name: string) {
    let global = processUsage.get(name);
    if (!global) {
      global = emptyUsage();
      processUsage.set(name, global);
    }
    this.global = global;
  }

  private each(update: (u: InferenceUsage) => void): void {
    update(this.own);
    update(this.global);
  }

  call(): void {
    this.each((u) => u.calls++);
  }
  attempt(isRetry: boolean): void {
    this.each((u) => {
      u.attempts++;
      if (isRetry) u.retries++;
    });
  }
  attemptFailed(kind: FailureKind): void {
    this.each((u) => {
      u.failedAttempts++;
      u.failuresByKind[kind] = (u.failuresByKind[kind] ?? 0) + 1;
    });
  }
  succeeded(promptTokens: number, completionTokens: number): void {
    this.each((u) => {
      u.succeeded++;
      u.promptTokens += promptTokens;
      u.completionTokens += completionTokens;
    });
  }
  failed(): void {
    this.each((u) => u.failed++);
  }
  cancelled(): void {
    this.each((u) => u.cancelled++);
  }

  snapshot(): InferenceUsage {
    return copyUsage(this.own);
  }
}

/** Process-wide usage per endpoint name (all clients of that name in this process). */
export function processInferenceUsage(): Record<string, InferenceUsage> {
  const out: Record<string, InferenceUsage> = {};
  for (const [name, u] of processUsage) out[name] = copyUsage(u);
  return out;
}

/** For tests. */
export function resetProcessInferenceUsage(): void {
  for (const u of processUsage.values()) Object.assign(u, emptyUsage());
}
