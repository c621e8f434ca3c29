// The dataset card of an SFT dataset: README.md beside the data, with the YAML header the Hugging Face hub and
// `datasets.load_dataset(<folder>)` read (which files hold the train split), then what made the data and what was
// dropped, so a reader of the folder alone can tell where every row came from.
import { SFT_RULES, type SftRule } from '../../domain/sft-distill';
import type { TokenHistogram } from './assemble';

export interface CardFacts {
  name: string;
  /** Where the prompts came from: the prompt files or the dataset. */
  source: string;
  teacher: {
    role: string;
    model?: string;
    n: number;
    temperature: number;
    topP: number;
    maxTokens: number;
    reasoningEffort?: string;
  };
  /** The models the teacher's server named in its answers. */
  models: string[];
  seed: number;
  filters: { traceFormat: string; maxLen: number; minLen: number; verifyMath: boolean };
  tokenizer: string | null;
  rows: number;
  cells: number;
  dropped: Record<SftRule, number>;
  histogram: TokenHistogram;
  /** glob of the train split, relative to the folder */
  dataFiles: string;
}

const RULE_MEANING: Record<SftRule, string> = {
  'invalid-record': 'the prompt line could not be used (bad JSON, a missing field, no domain)',
  failed: 'the teacher request or the filter failed for good',
  'cut-at-length': 'the teacher stopped at max tokens',
  'unfinished-trace': 'the reasoning never ended (no `assistantfinal` / no `</think>`)',
  'malformed-trace': 'not `analysis…`, the end marker more than once, or an empty reasoning or answer',
  'no-code': 'code: no program in the last fenced block after `</think>`',
  'no-boxed': 'math: no final `\\boxed{}` after `</think>`',
  'no-reference-answer': 'math with verifyMath: the prompt has no answer to check against',
  'wrong-answer': 'math with verifyMath: the final answer differs from the prompt’s',
  'too-long': 'student tokens of prompt + completion + 20 reach maxLen (or are below minLen)',
  'duplicate-prompt': 'another kept row has the same formatted prompt (the first wins)',
};

export function datasetCard(f: CardFacts): string {
  const t = f.teacher;
  const teacher = [
    `role \`${t.role}\`${t.model ? `, model \`${t.model}\`` : ''}`,
    `served as ${f.models.length ? f.models.map((m) => `\`${m}\``).join(', ') : '(no answers)'}`,
    `${t.n} trace(s) per prompt`,
    `temperature ${t.temperature}, top_p ${t.topP}, max ${t.maxTokens} tokens`,
    t.reasoningEffort ? `reasoning effort ${t.reasoningEffort}` : 'the chat template’s default reasoning effort',
  ].join('; ');
  const h = f.histogram;
  const lines = [
    '---',
    'configs:',
    '- config_name: default',
    '  data_files:',
    '  - split: train',
    `    path: "${f.dataFiles}"`,
    'dataset_info:',
    '  features:',
    '  - name: prompt',
    '    dtype: string',
    '  - name: completion',
    '    dtype: string',
    'task_categories:',
    '- text-generation',
    '---',
    '',
    `# ${f.name}`,
    '',
    'Teacher-distilled reasoning traces for supervised fine-tuning (PromptCoT 2.0, SFT regime). Each row is',
    '`{prompt, completion}`: the prompt is `<|im_start|>user\\n…<|im_end|>\\n<|im_start|>assistant`, the completion',
    'a newline and then `<think>\\n{reasoning}\\n</think>\\n\\n{answer}`. Train on the completion only (prompt tokens',
    'masked) and append the end-of-sequence token.',
    '',
    '## Provenance',
    '',
    `- Source prompts: ${f.source}`,
    `- Teacher: ${teacher}`,
    `- Seeds: run seed ${f.seed}; the seed of each request is derived from (run seed, prompt id, sample), and the`,
    `  rows are in an order hashed from the run seed (the same data and seed give the same file, byte for byte)`,
    `- Filters: trace format ${f.filters.traceFormat}, token length in [${f.filters.minLen}, ${f.filters.maxLen}) counted by ${f.tokenizer ?? '(no row was counted)'}, verifyMath ${f.filters.verifyMath}`,
    '',
    '## Counts',
    '',
    `${f.rows} rows kept of ${f.cells} cells (prompt lines × traces per prompt).`,
    '',
    '| rule | dropped | meaning |',
    '| --- | ---: | --- |',
    ...SFT_RULES.map((r) => `| ${r} | ${f.dropped[r]} | ${RULE_MEANING[r]} |`),
    '',
    '## Token lengths (prompt + completion, student tokenizer)',
    '',
    `min ${h.min}, mean ${h.mean}, max ${h.max}; the histogram is in \`token-lengths.png\`.`,
    '',
    '| tokens | rows |',
    '| --- | ---: |',
    ...h.bins.flatMap((count, i) =>
      count > 0 ? [`| ${i * h.binWidth}–${(i + 1) * h.binWidth - 1} | ${count} |`] : [],
    ),
    '',
  ];
  return lines.join('\n');
}
