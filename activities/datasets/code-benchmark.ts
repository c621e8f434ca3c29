// Reads a code benchmark file in the LiveCodeBench / PromptCoT layout (data/benchmarks/*codeforces*.jsonl):
// one JSON object per line with `prompt` and `input_output`, a JSON string {inputs: [...], outputs: [...], fn_name?}.
import { readFileSync } from 'node:fs';
import type { TestCase } from '../sandbox/types';

export interface CodeBenchmarkProblem {
  prompt: string;
  tests: TestCase[];
  fnName?: string;
}

export function readCodeBenchmark(file: string): CodeBenchmarkProblem[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => {
      const row = JSON.parse(line) as { prompt: string; input_output: unknown };
      return { prompt: row.prompt, ...parseInputOutput(row.input_output, `${file}:${i + 1}`) };
    });
}

/**
 * The tests of an `input_output` field: a JSON string (the published files) or the object itself,
 * `{inputs: [...], outputs: [...], fn_name?}`; a problem names `where` (file:line) in its error.
 */
export function parseInputOutput(value: unknown, where: string): { tests: TestCase[]; fnName?: string } {
  let io: unknown = value;
  if (typeof value === 'string') {
    try {
      io = JSON.parse(value);
    } catch (err) {
      throw new Error(`${where}: input_output: not JSON (${(err as Error).message})`);
    }
  }
  const { inputs, outputs, fn_name } = (io ?? {}) as { inputs?: unknown; outputs?: unknown; fn_name?: unknown };
  if (!Array.isArray(inputs) || !Array.isArray(outputs))
    throw new Error(`${where}: input_output: needs "inputs" and "outputs" lists`);
  if (inputs.length !== outputs.length)
    throw new Error(`${where}: input_output: ${inputs.length} inputs but ${outputs.length} outputs`);
  if (inputs.length === 0) throw new Error(`${where}: input_output: no tests`);
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return {
    tests: inputs.map((input, k) => ({ input: text(input), output: text(outputs[k]) })),
    ...(typeof fn_name === 'string' && fn_name !== '' ? { fnName: fn_name } : {}),
  };
}
