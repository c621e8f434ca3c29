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
      const row = JSON.parse(line) as { prompt: string; input_output: string };
      const io = JSON.parse(row.input_output) as { inputs: string[]; outputs: string[]; fn_name?: string };
      if (io.inputs.length !== io.outputs.length)
        throw new Error(`${file}:${i + 1}: input_output: ${io.inputs.length} inputs but ${io.outputs.length} outputs`);
      return {
        prompt: row.prompt,
        tests: io.inputs.map((input, k) => ({ input, output: io.outputs[k]! })),
        ...(io.fn_name ? { fnName: io.fn_name } : {}),
      };
    });
}
