// Pieces both sandboxes (Python, JavaScript) use: the stderr excerpt of a verdict, compile errors for every test,
// and a bounded-parallel map over the tests that stops scheduling when cancelled.
import type { RunResult, TestCase } from './types';

const STDERR_EXCERPT = 2048;

/** The last ≤ 2 KiB of stderr (the end of a traceback says most), or undefined when empty. */
export function excerpt(stderr: string): string | undefined {
  if (!stderr) return undefined;
  const buf = Buffer.from(stderr, 'utf8');
  if (buf.length <= STDERR_EXCERPT) return stderr;
  return '…' + buf.subarray(buf.length - STDERR_EXCERPT + 3).toString('utf8');
}

/** A program that does not compile: compile_error for every test, with the message. */
export function compileErrors(tests: TestCase[], message: string): RunResult {
  const msg = excerpt(message) ?? 'SyntaxError';
  return { verdicts: tests.map(() => ({ verdict: 'compile_error' as const, timeMs: 0, stderr: msg, detail: msg })) };
}

/** `fn` over `items`, at most `width` at once, results in order; after `signal` aborts, nothing new starts and it rejects. */
export async function mapPool<T, R>(
  items: T[],
  width: number,
  fn: (item: T, i: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(width, items.length)) }, async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  signal?.throwIfAborted();
  return results;
}
