// The tests of a code cell, loaded where the cell is scored (cells carry a reference, not the tests: a
// LiveCodeBench problem's private tests run to megabytes). Files are parsed once per process and kept in a small
// cache: a scoring shard's cells come from a few problems of a few files.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { TestsRef } from '../../domain/evaluate';
import type { TestCase } from '../sandbox/types';
import { parseInputOutput, readCodeBenchmark, type CodeBenchmarkProblem } from '../datasets/code-benchmark';

const MAX_CACHED = 64;
const cache = new Map<string, Promise<{ tests: TestCase[]; fnName?: string }> | Promise<CodeBenchmarkProblem[]>>();

function remember<T>(key: string, load: () => Promise<T>): Promise<T> {
  let hit = cache.get(key) as Promise<T> | undefined;
  if (!hit) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    hit = load();
    // a failed load is not kept: the next cell tries again (the file may have been fixed)
    hit.catch(() => cache.delete(key));
    cache.set(key, hit as never);
  }
  return hit;
}

/** The md5 of a file's bytes (LiveCodeBench test files are checked against the md5 their problems file gives). */
export async function md5File(file: string): Promise<string> {
  return createHash('md5')
    .update(await fsp.readFile(file))
    .digest('hex');
}

/** A LiveCodeBench test file: `{"input_output": <JSON string or object with inputs, outputs, fn_name>}`. */
async function readTestFile(file: string, md5: string): Promise<{ tests: TestCase[]; fnName?: string }> {
  const bytes = await fsp.readFile(file);
  const actual = createHash('md5').update(bytes).digest('hex');
  if (actual !== md5) throw new Error(`${file}: md5 ${actual}, the problems file says ${md5}`);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  return parseInputOutput((body as { input_output?: unknown }).input_output, file);
}

export async function loadTests(ref: TestsRef, fnName?: string): Promise<{ tests: TestCase[]; fnName?: string }> {
  if (ref.kind === 'file') {
    const loaded = await remember(`file\u0000${ref.file}\u0000${ref.md5}`, () => readTestFile(ref.file, ref.md5));
    return { tests: loaded.tests, ...((fnName ?? loaded.fnName) ? { fnName: fnName ?? loaded.fnName } : {}) };
  }
  const problems = await remember(`line\u0000${ref.file}`, async () => readCodeBenchmark(ref.file));
  const problem = problems[ref.index];
  if (!problem) throw new Error(`${ref.file}: no problem at line ${ref.index + 1}`);
  return { tests: problem.tests, ...((fnName ?? problem.fnName) ? { fnName: fnName ?? problem.fnName } : {}) };
}
