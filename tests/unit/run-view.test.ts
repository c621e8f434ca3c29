// The run view's text (domain/core/run-view.ts): list filters, summaries, the progress summary and the details.
import {
  devServerSearchAttributeFlags,
  LIST_FILTERS,
  listFilterQuery,
  passSummary,
  progressSummary,
  renderRunDetails,
  runSummary,
  SEARCH_ATTRIBUTE_NAMES,
  stageSummary,
} from '../../domain/core/run-view';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatasetStore } from '../../activities/datasets/store';
import { FAILURE_TYPES_NOT_RETRIED } from '../../domain/core/errors';
import type { PipelineProgress } from '../../domain/core/progress';

const counts = (kept: number, rejected = 0) => ({ items: kept + rejected, kept, rows: kept, rejected, failed: 0 });
const out = (name: string) => ({ name, manifest: `datasets/${name}/manifest.json`, items: 1, shards: 1 });

describe('the run view text', () => {
  it('registers every attribute as Keyword on the dev server', () => {
    expect(SEARCH_ATTRIBUTE_NAMES).toEqual([
      'PromptcotPipeline',
      'PromptcotName',
      'PromptcotRunKey',
      'PromptcotStep',
      'PromptcotState',
    ]);
    expect(devServerSearchAttributeFlags().slice(0, 2)).toEqual(['--search-attribute', 'PromptcotPipeline=Keyword']);
    expect(devServerSearchAttributeFlags()).toHaveLength(10);
  });

  it('turns --filter values into list queries', () => {
    expect(listFilterQuery([])).toBeUndefined();
    expect(listFilterQuery(['waiting-retry'])).toBe(LIST_FILTERS['waiting-retry']!.query);
    expect(listFilterQuery(['state=paused'])).toBe("PromptcotState = 'paused'");
    expect(listFilterQuery(['name=code-corpus', "ExecutionStatus='Running'"])).toBe(
      "(PromptcotName = 'code-corpus') AND (ExecutionStatus='Running')",
    );
    // not one of ours: passed on as a query
    expect(listFilterQuery(["WorkflowType = 'selfPlay'"])).toBe("WorkflowType = 'selfPlay'");
  });

  it('writes one-line summaries of runs and stage children', () => {
    expect(
      runSummary('synthesizeCorpus', {
        name: 'code-corpus',
        conceptFiles: ['concepts/code.jsonl'],
        domain: 'code',
        passes: 64,
      }),
    ).toBe('synthesizeCorpus code-corpus · domain code · passes 64 · concepts/code.jsonl');
    expect(runSummary('batchInference', { name: 'demo', inputFiles: ['a.jsonl', 'b.jsonl', 'c.jsonl'] })).toBe(
      'batchInference demo · a.jsonl +2 files',
    );
    expect(runSummary('unknownPipeline', 'not an object')).toBe('unknownPipeline');
    expect(runSummary('batchInference', { name: 'x'.repeat(300) })).toHaveLength(200);
    expect(passSummary({ name: 'code-corpus', pass: 16, passes: 64, seed: 8016 })).toBe(
      'synthesizeCorpus code-corpus · pass 17/64 · seed 8016',
    );
    expect(
      stageSummary({ pipeline: 'selfPlay', name: 'sp', step: 'round-1/rollouts', operation: 'sampleRollouts' }),
    ).toBe('selfPlay sp · step round-1/rollouts · sampleRollouts');
  });

  it('sums stages, and passes where the run has them', () => {
    const progress: PipelineProgress = {
      pipeline: 'coldStart',
      phase: 'triples',
      stagesTotal: 2,
      currentStage: { stage: 'triples', workflowId: 'wf/triples' },
      finishedStages: [{ stage: 'concepts', counts: counts(5, 2), output: out('c') }],
      notes: ['imported 7'],
    };
    expect(progressSummary(progress)).toEqual({
      done: 1,
      total: 2,
      unit: 'stages',
      kept: 5,
      rejected: 2,
      duplicates: 0,
    });
    const pass = (status: string, kept: number) => ({ status, kept, rejected: 1, failed: 1, duplicates: 2 });
    const synthesis = { ...progress, passes: [pass('done', 3), pass('generating', 0)] };
    expect(progressSummary(synthesis)).toEqual({
      done: 1,
      total: 2,
      unit: 'passes',
      kept: 3,
      rejected: 4,
      duplicates: 4,
    });

    const text = renderRunDetails({
      pipeline: 'coldStart',
      name: 'seeds',
      workflowId: 'wf',
      state: 'running',
      progress,
      files: ['datasets/seeds/seed-problems/rejects-00000.jsonl'],
    });
    expect(text).toContain('**coldStart** `seeds`: running, step `triples`');
    expect(text).toContain('1 of 2 stages `[##########..........] 50%`');
    expect(text).toContain('kept 5 · rejected 2');
    expect(text).toContain('child workflow `wf/triples`');
    expect(text).toContain('- `datasets/seeds/seed-problems/rejects-00000.jsonl`');
    expect(text).toContain('- imported 7');
  });

  it("shows a graph run's steps: done/total over finished steps, and each step's state, tokens and reason", () => {
    const progress: PipelineProgress = {
      pipeline: 'promptcotExperiment',
      phase: 'sft',
      finishedStages: [],
      notes: [],
      graph: [
        { step: 'synthesize-math', state: 'reused', tokens: 1200 },
        { step: 'analyze', state: 'skipped', reason: 'fewer than two non-empty corpora' },
        { step: 'sft', state: 'held', reason: 'role teacher: up to 656 tokens needed, 100 of its budget 100 left' },
        { step: 'report', state: 'waiting' },
      ],
    };
    expect(progressSummary(progress)).toEqual({
      done: 2,
      total: 4,
      unit: 'steps',
      kept: 0,
      rejected: 0,
      duplicates: 0,
    });
    const text = renderRunDetails({
      pipeline: 'promptcotExperiment',
      name: 'e',
      workflowId: 'wf',
      state: 'paused',
      progress,
    });
    expect(text).toContain('2 of 4 steps `[##########..........] 50%`');
    expect(text).toContain('- `synthesize-math` reused · 1200 tokens');
    expect(text).toContain('- `analyze` skipped · fewer than two non-empty corpora');
    expect(text).toContain('- `sft` held · role teacher: up to 656 tokens needed, 100 of its budget 100 left');
    expect(text).toContain('- `report` waiting');
    expect(text).not.toContain('kept 0');
  });

  it('an unknown dataset fails with a DatasetError naming the manifest path, which Temporal does not retry', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'unknown-dataset-'));
    try {
      const store = new DatasetStore(root);
      const err = await store
        .readManifest({ name: 'nope', manifest: 'datasets/nope/manifest.json', items: 1, shards: 1 })
        .catch((e: unknown) => e as Error);
      expect(err).toMatchObject({ name: 'DatasetError' });
      expect((err as Error).message).toContain(path.join(root, 'datasets/nope/manifest.json'));
      expect(FAILURE_TYPES_NOT_RETRIED).toContain('DatasetError');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
