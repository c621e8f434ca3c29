// How a run shows in the Temporal Web UI and in list queries: the project's custom search attributes (names and
// types, one place for the dev server, the CLI and the workflows), ready-made list filters, the one-line summaries
// of runs and of stage children, the compact progress summary, and the Markdown of a run's current details.
// Pure text: the workflows render it, so it must be deterministic.
import type { PipelineProgress, ProgressSummary } from './progress';
import type { StageProgress } from './stage';

/** Every custom search attribute the project upserts; all are Keyword (exact match, `=` and `IN`). */
export const SEARCH_ATTRIBUTES = {
  /** the workflow type of the pipeline run: batchInference, synthesizeCorpus, ... */
  PromptcotPipeline: 'Keyword',
  /** the run's `name` input (dataset prefix) */
  PromptcotName: 'Keyword',
  /** the run key (synthesizeCorpus) or the workflow id: what a re-start with the same key resumes */
  PromptcotRunKey: 'Keyword',
  /** the step or phase in progress */
  PromptcotStep: 'Keyword',
  /** one of RUN_STATES */
  PromptcotState: 'Keyword',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SEARCH_ATTRIBUTES) as SearchAttributeName[];

/** The `--search-attribute NAME=TYPE` flags of `temporal server start-dev`. */
export function devServerSearchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=${SEARCH_ATTRIBUTES[name]}`]);
}

export const RUN_STATES = [
  'running',
  'waiting-retry',
  'paused',
  'training',
  'stopped',
  'done',
  'failed',
  'cancelled',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** Ready-made list filters (`npm run cli -- list --filter NAME`, and the README's saved views). */
export const LIST_FILTERS: Record<string, { query: string; means: string }> = {
  runs: { query: 'ParentWorkflowId IS NULL', means: 'top-level runs only (no stage children)' },
  active: {
    query: "ExecutionStatus = 'Running' AND ParentWorkflowId IS NULL",
    means: 'top-level runs still running',
  },
  'waiting-retry': {
    query: "PromptcotState = 'waiting-retry' AND ExecutionStatus = 'Running'",
    means: 'runs whose failed step waits for retryStep or abandon',
  },
  paused: { query: "PromptcotState = 'paused' AND ExecutionStatus = 'Running'", means: 'paused runs' },
  training: {
    query: "PromptcotState = 'training' AND ExecutionStatus = 'Running'",
    means: 'runs waiting for a trainer',
  },
  failed: { query: "ExecutionStatus = 'Failed' AND ParentWorkflowId IS NULL", means: 'top-level runs that failed' },
};

const FIELD_FILTERS: Record<string, SearchAttributeName> = {
  pipeline: 'PromptcotPipeline',
  name: 'PromptcotName',
  runKey: 'PromptcotRunKey',
  step: 'PromptcotStep',
  state: 'PromptcotState',
};

/**
 * The list query of a `--filter`: a ready-made name (LIST_FILTERS), `field=value` for one of our attributes
 * (pipeline, name, runKey, step, state), or a visibility query as it is. Several are joined with AND.
 */
export function listFilterQuery(filters: string[]): string | undefined {
  const parts = filters.map((f) => {
    const ready = LIST_FILTERS[f];
    if (ready) return ready.query;
    const m = /^([A-Za-z]+)=([^'"\s]+)$/.exec(f);
    const attribute = m ? FIELD_FILTERS[m[1]!] : undefined;
    if (m && attribute) return `${attribute} = '${m[2]}'`;
    return f;
  });
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' AND ');
}

// ---- summaries (one line: the UI shows them in the run list and the child workflow list) -------------------------

/** The input fields each pipeline names in its run summary, in this order. */
const SUMMARY_FIELDS: Record<string, string[]> = {
  batchInference: ['inputFiles'],
  synthesizeCorpus: ['domain', 'passes', 'runKey', 'conceptFiles'],
  coldStart: ['problemFiles'],
  emRationaleLoop: ['iterations', 'k'],
  selfPlay: ['rounds', 'k', 'seed', 'promptFiles'],
  sftDistill: ['seed', 'promptFiles'],
  evaluate: ['seed'],
  analyzeCorpora: ['seed'],
  promptcotExperiment: ['domains', 'seed'],
  mapDatasetStage: ['operation', 'stage'],
};

function fieldText(key: string, value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `${key} ${value}`;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    if (value.length === 0) return undefined;
    return value.length === 1 ? `${value[0]}` : `${value[0]} +${value.length - 1} files`;
  }
  return undefined;
}

function oneLine(parts: Array<string | undefined>, max = 200): string {
  const text = parts.filter((p) => p !== undefined && p !== '').join(' · ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A top-level run: `synthesizeCorpus code-corpus · domain code · passes 64 · concepts/code.jsonl`. */
export function runSummary(pipeline: string, input: unknown): string {
  const record = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name : undefined;
  const fields = (SUMMARY_FIELDS[pipeline] ?? []).map((k) => fieldText(k, record[k]));
  return oneLine([name ? `${pipeline} ${name}` : pipeline, ...fields]);
}

/** A stage child: names its parent run and step, e.g. `synthesizeCorpus code-corpus · pass 17/64 · seed 8016`. */
export function stageSummary(o: { pipeline: string; name?: string; step: string; operation: string }): string {
  return oneLine([o.name ? `${o.pipeline} ${o.name}` : o.pipeline, `step ${o.step}`, o.operation]);
}

/** A pass of synthesizeCorpus (1-based in the text, as people count). */
export function passSummary(o: { name: string; pass: number; passes: number; seed: number }): string {
  return oneLine([`synthesizeCorpus ${o.name}`, `pass ${o.pass + 1}/${o.passes}`, `seed ${o.seed}`]);
}

// ---- the progress query's summary ---------------------------------------------------------------------------------

interface PassLike {
  status: string;
  kept: number;
  rejected: number;
  failed: number;
  duplicates: number;
}

/**
 * done/total: passes (synthesizeCorpus) or finished stages out of the stages known so far; kept: what the run kept
 * (kept passes summed, else the last finished stage's kept items); rejected: rejected + failed items of every stage.
 */
/** The states of a graph step that count as finished in the progress bar. */
const FINISHED_STEP_STATES = new Set(['done', 'reused', 'skipped']);

/** The steps of a graph run, one line each: `- \`em\` done · 1234 tokens`. */
export function graphLines(graph: NonNullable<PipelineProgress['graph']>): string[] {
  return graph.map(
    (g) => `- \`${g.step}\` ${g.state}${g.tokens ? ` · ${g.tokens} tokens` : ''}${g.reason ? ` · ${g.reason}` : ''}`,
  );
}

export function progressSummary(progress: PipelineProgress): ProgressSummary {
  const passes = (progress as PipelineProgress & { passes?: PassLike[] }).passes;
  if (passes && passes.length > 0) {
    const sum = (f: (p: PassLike) => number) => passes.reduce((n, p) => n + f(p), 0);
    return {
      done: passes.filter((p) => p.status === 'done').length,
      total: passes.length,
      unit: 'passes',
      kept: sum((p) => p.kept),
      rejected: sum((p) => p.rejected + p.failed),
      duplicates: sum((p) => p.duplicates),
    };
  }
  const graph = progress.graph;
  if (graph && graph.length > 0)
    return {
      done: graph.filter((g) => FINISHED_STEP_STATES.has(g.state)).length,
      total: graph.length,
      unit: 'steps',
      kept: 0,
      rejected: 0,
      duplicates: 0,
    };
  const stages = progress.finishedStages;
  const done = stages.length;
  const total = Math.max(progress.stagesTotal ?? 0, done + (progress.currentStage ? 1 : 0));
  return {
    done,
    total,
    unit: 'stages',
    kept: stages.length > 0 ? stages[stages.length - 1]!.counts.kept : 0,
    rejected: stages.reduce((n, s) => n + s.counts.rejected + s.counts.failed, 0),
    duplicates: 0,
  };
}

export function progressBar(done: number, total: number, width = 20): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(fraction * 100)}%`;
}

export function summaryLine(s: ProgressSummary): string {
  const parts = [`${s.done} of ${s.total} ${s.unit}`, `kept ${s.kept}`, `rejected ${s.rejected}`];
  if (s.unit === 'passes') parts.push(`duplicates ${s.duplicates}`);
  return parts.join(' · ');
}

// ---- current details (Markdown, shown on the run's page) ----------------------------------------------------------

export interface RunDetails {
  pipeline: string;
  name?: string;
  workflowId: string;
  state: RunState;
  progress: PipelineProgress;
  /** what the run waits for, one Markdown paragraph (a failed step and how to retry it, a pause, a trainer) */
  waitingFor?: string;
  /** files to look at: reports, rejects, output manifests (relative to the storage root) */
  files?: string[];
  /** one line on where this run stands among the runs of its workflow id (continue-as-new, resume) */
  context?: string;
}

const STATE_TEXT: Record<RunState, string> = {
  running: 'running',
  'waiting-retry': 'waiting for retryStep',
  paused: 'paused',
  training: 'training',
  stopped: 'stopped',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function renderRunDetails(d: RunDetails): string {
  const p = d.progress;
  const s = progressSummary(p);
  const lines = [
    `**${d.pipeline}**${d.name ? ` \`${d.name}\`` : ''}: ${STATE_TEXT[d.state]}, step \`${p.phase}\``,
    '',
    `**Progress:** ${s.done} of ${s.total} ${s.unit} \`${progressBar(s.done, s.total)}\``,
    '',
    s.unit === 'steps'
      ? ['**Steps:**', ...graphLines(p.graph!)].join('\n')
      : `kept ${s.kept} · rejected ${s.rejected}${s.unit === 'passes' ? ` · duplicates ${s.duplicates}` : ''}`,
  ];
  if (d.context) lines.push('', `_${d.context}_`);
  if (p.currentStage)
    lines.push('', `**Running stage:** \`${p.currentStage.stage}\` (child workflow \`${p.currentStage.workflowId}\`)`);
  if (d.waitingFor) lines.push('', `**Waiting for:** ${d.waitingFor}`);
  const files = (d.files ?? []).slice(0, 12);
  if (files.length > 0) {
    lines.push('', '**Files** (under the storage root):');
    for (const f of files) lines.push(`- \`${f}\``);
    if ((d.files ?? []).length > files.length) lines.push(`- … ${(d.files ?? []).length - files.length} more`);
  }
  const notes = p.notes.slice(-5);
  if (notes.length > 0) {
    lines.push('', '**Latest notes:**');
    for (const n of notes) lines.push(`- ${n}`);
  }
  lines.push('', `Query \`progress\` for every stage's counts (\`npm run cli -- status ${d.workflowId}\`).`);
  return lines.join('\n');
}

/** How to send a signal to this run, as the details say it. */
export function signalHint(workflowId: string, signal: string): string {
  return `\`npm run cli -- signal ${workflowId} ${signal}\``;
}

/** The current details of a stage child: its parent run and step, shards and items done, counts. */
export function renderStageDetails(p: StageProgress, parent?: string): string {
  const lines = [
    `**Stage** \`${p.stage}\` (\`${p.operation}\`): ${p.done ? 'done' : 'running'}${parent ? `, a step of \`${parent}\`` : ''}`,
    '',
    `**Shards:** ${p.shardsDone} of ${p.shardsTotal} \`${progressBar(p.shardsDone, p.shardsTotal)}\`, ${p.shardsRunning} running`,
    '',
    `**Items:** ${p.counts.items} of ${p.itemsTotal} in finished shards · kept ${p.counts.kept} · rows ${p.counts.rows} · rejected ${p.counts.rejected} · failed ${p.counts.failed}`,
  ];
  if (p.runs > 1) lines.push('', `_run ${p.runs} of this stage (continue-as-new every few hundred shards)_`);
  return lines.join('\n');
}
