// The failure catalog (domain/core/errors.ts): every type the code throws across an activity boundary is listed,
// workflows refuse to retry exactly the catalog's non-retryable types, and item errors are classified three ways.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURES, FAILURE_TYPES_NOT_RETRIED, itemErrorKind } from '../../domain/core/errors';
import { RetryLaterError } from '../../activities/stage/operation';
import { NON_RETRYABLE } from '../../workflows/bookkeeping';

const ROOT = path.resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('failure catalog', () => {
  it('lists every failure type thrown by activities and workflows', () => {
    const thrown = new Map<string, string>();
    const patterns = [
      /nonRetryable\([^;]*?,\s*'([A-Za-z]+)'\)/g,
      /ApplicationFailure\.create\(\{[^}]*?type:\s*'([A-Za-z]+)'/g,
      /\bfailure\(\s*'([A-Za-z]+)'/g,
    ];
    for (const file of ['activities', 'workflows', 'workers'].flatMap((d) => sources(path.join(ROOT, d)))) {
      const text = readFileSync(file, 'utf8');
      for (const re of patterns)
        for (const m of text.matchAll(re)) if (m[1]) thrown.set(m[1], path.relative(ROOT, file));
    }
    expect(thrown.size).toBeGreaterThan(8);
    const missing = [...thrown].filter(([type]) => !(type in FAILURES)).map(([type, file]) => `${type} (${file})`);
    expect(missing).toEqual([]);
  });

  it('workflows do not retry exactly the non-retryable types of the catalog', () => {
    expect([...NON_RETRYABLE].sort()).toEqual([...FAILURE_TYPES_NOT_RETRIED].sort());
    expect(NON_RETRYABLE).toEqual(
      expect.arrayContaining(['InvalidInput', 'DatasetError', 'NonRetryableInferenceError', 'TrainJobConflict']),
    );
    expect(NON_RETRYABLE).not.toContain('InferenceUnavailableError');
  });

  it('classifies what an item operation throws: the item, retry the shard, fail the shard', () => {
    expect(itemErrorKind(new Error('bad output'))).toBe('item');
    expect(itemErrorKind('a string')).toBe('item');
    expect(itemErrorKind(new RetryLaterError('no sandbox here'))).toBe('retry-shard');
    expect(itemErrorKind(Object.assign(new Error('x'), { name: 'InferenceUnavailableError' }))).toBe('retry-shard');
    expect(itemErrorKind(ApplicationFailure.nonRetryable('benchmark file unreadable', 'InvalidInput'))).toBe(
      'fail-shard',
    );
    expect(itemErrorKind(ApplicationFailure.retryable('flaky', 'X'))).toBe('item');
  });
});
