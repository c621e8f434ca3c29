// The workflows users start (CLI, Web UI, schedules), with the schema of their single JSON input and an example
// input that works with the files of this repository (paths relative to the worker's folder, the repository root);
// the README's Web UI section and `npm run cli -- workflows` show these examples, and a unit test parses each one.
import { z } from 'zod';
import { BatchInferenceInputSchema } from '../batch-inference';
import { StageRequestSchema } from './operations';
import { EmInputSchema } from '../em-rationale-loop';
import { SelfPlayInputSchema } from '../self-play';
import { SftDistillInputSchema } from '../sft-distill';
import { EvaluateInputSchema } from '../evaluate';
import { AnalyzeCorporaInputSchema } from '../analyze-corpora';
import { SynthesizeCorpusInputSchema } from '../synthesize-corpus';
import { ColdStartInputSchema } from '../cold-start';
import { ExperimentInputSchema } from '../experiment';
import quickstartExperiment from '../../experiments/quickstart.json';

export interface StartableWorkflow {
  input: z.ZodType;
  description: string;
  /** An input to copy: small, valid, and runnable on the embedded model with the shipped temporal.yaml. */
  example: Record<string, unknown>;
}

export const STARTABLE_WORKFLOWS: Record<string, StartableWorkflow> = {
  batchInference: {
    input: BatchInferenceInputSchema,
    description: 'JSONL prompts -> sampled completions with provenance',
    example: {
      name: 'demo',
      inputFiles: ['scripts/examples/prompts.jsonl'],
      chat: { role: 'policy', sampling: { n: 2, temperature: 0.8, maxTokens: 256, seed: 8000 } },
    },
  },
  mapDatasetStage: {
    input: StageRequestSchema,
    description: 'map one item operation over a dataset (the generic stage)',
    // the prompts the batchInference example imported, sampled once more
    example: {
      stage: 'more-samples',
      operation: 'chatCompletion',
      params: { role: 'policy', sampling: { n: 1, maxTokens: 128, seed: 9000 } },
      input: { name: 'demo/input', manifest: 'datasets/demo/input/manifest.json', items: 8, shards: 1 },
      output: 'demo/more-samples',
    },
  },
  synthesizeCorpus: {
    input: SynthesizeCorpusInputSchema,
    description: 'concept file -> passes of p_theta -> parsed, deduplicated, formatted problems',
    // seeds derived from the run: a run with a new workflow id (runKey) samples anew
    example: {
      name: 'demo-corpus',
      conceptFiles: ['scripts/examples/concepts.jsonl'],
      domain: 'math',
      passes: 2,
      seeds: 'run',
      sampling: { maxTokens: 512 },
    },
  },
  coldStart: {
    input: ColdStartInputSchema,
    description: 'seed problems -> concepts -> rationales: concept files and seed triples',
    example: {
      name: 'demo-seeds',
      problemFiles: ['scripts/examples/seed-problems.jsonl'],
      concepts: { level: 'AIME', maxTokens: 512 },
      rationales: { maxTokens: 512 },
    },
  },
  selfPlay: {
    input: SelfPlayInputSchema,
    description:
      'verifiable rewards, then rounds of k policy rollouts -> verdicts -> chosen/rejected DPO pairs -> trainer -> next policy',
    example: {
      name: 'demo-self-play',
      promptFiles: ['scripts/examples/self-play-prompts.jsonl'],
      rounds: 1,
      k: 4,
      rollouts: { maxTokens: 512 },
      training: { enabled: false },
    },
  },
  sftDistill: {
    input: SftDistillInputSchema,
    description:
      'teacher traces per prompt -> normalised, filtered {prompt, completion} rows (card, report) -> SFT of the student',
    // trains the student with the example trainer of temporal.yaml `training`
    example: {
      name: 'demo-sft',
      promptFiles: ['scripts/examples/sft-prompts.jsonl'],
      teacher: { maxTokens: 512 },
      parquet: true,
      student: { version: 'tiny-bigram' },
    },
  },
  evaluate: {
    input: EvaluateInputSchema,
    description:
      'models x benchmarks (AIME 24/25, HMMT 25, Codeforces, LiveCodeBench, your JSONL): cells -> samples -> scores -> metrics with CIs, Elo, report',
    example: {
      name: 'demo-eval',
      models: [{ label: 'tiny', role: 'policy' }],
      benchmarks: ['aime24'],
      runs: { math: 2 },
      sampling: { maxTokens: 256 },
    },
  },
  analyzeCorpora: {
    input: AnalyzeCorporaInputSchema,
    description:
      'two or more corpora: difficulty (teacher references, solver accuracy, teacher tokens, CIs) and diversity (embeddings, 1 - cos, MDS plot, near duplicates)',
    // two example corpora; the embedder is the shipped MiniLM model when scripts/setup.sh installed it
    example: {
      name: 'demo-analysis',
      corpora: [
        { label: 'seed-problems', files: ['scripts/examples/seed-problems.jsonl'], domain: 'math' },
        { label: 'self-play', files: ['scripts/examples/self-play-prompts.jsonl'] },
      ],
      difficulty: { sampleSize: 3, teacher: { maxTokens: 256 }, solver: { maxTokens: 256 } },
    },
  },
  promptcotExperiment: {
    input: ExperimentInputSchema,
    description:
      'the whole method as one graph: cold start -> EM -> corpus synthesis -> self-play and/or SFT -> evaluation -> report, with token and wall-clock budgets',
    // the quick start's experiment (experiments/quickstart.json); experiments/paper-*.json are the paper's settings
    example: { ...quickstartExperiment, name: 'demo-experiment' },
  },
  emRationaleLoop: {
    input: EmInputSchema,
    description: 'cold start, warm start, then EM iterations training q_phi (best-of-K rationales) and p_theta',
    // trains with the example trainer of temporal.yaml `training`
    example: {
      name: 'demo-em',
      coldStart: {
        name: 'demo-em-seeds',
        problemFiles: ['scripts/examples/seed-problems.jsonl'],
        concepts: { level: 'AIME', maxTokens: 512 },
        rationales: { maxTokens: 512 },
      },
      models: { rationaleModel: { version: 'tiny-bigram' }, promptGenerator: { version: 'tiny-bigram' } },
      iterations: 1,
      k: 2,
      maxTokens: 256,
    },
  },
};

/** The JSON Schema of a workflow's input, as a user writes it (defaults optional). */
export function inputJsonSchema(workflow: StartableWorkflow): Record<string, unknown> {
  return z.toJSONSchema(workflow.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
