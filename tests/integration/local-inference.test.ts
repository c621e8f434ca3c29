// The inference layer against the embedded node-llama-cpp server (real HTTP, real GGUF tokenizer, real llama.cpp):
// span log-probs checked against an independent float64 computation, and durable batch and SFT runs on real inference.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import type { SftReport } from '../../activities/sft/assemble';
import type { SftDistillResult } from '../../workflows/sft-distill';
import type { EvaluateResult } from '../../workflows/evaluate';
import { createInferenceActivities } from '../../activities/inference/activities';
import { InferenceClient } from '../../activities/inference/client';
import { InferencePool } from '../../activities/inference/pool';
import type { Config } from '../../domain/platform/config';
import { generateTinyModel, referenceLogProbs, tinyModel, tokenizeBytes } from '../../lib/tiny-model';
import { testConfig } from '../support/config';
import { runTestWorkers, type TestWorkers } from '../support/workers';
import { writeJsonl } from '../support/files';
import { startLocalModelProcess, type LocalModelProcess } from '../support/local-model';
import { bundleWorkflows, startLocalTemporal } from '../support/temporal';

const SEED = 777;

/** Sum of the reference log-probs of the bytes of text[start, end) (UTF-16 offsets), BOS as context. */
function referenceSpan(text: string, start: number, end: number): number {
  const lp = referenceLogProbs(tokenizeBytes(text, { addBos: true }), tinyModel(SEED)); // lp[i] = log p(byte i | previous)
  const from = Buffer.byteLength(text.slice(0, start));
  const to = Buffer.byteLength(text.slice(0, end));
  let sum = 0;
  for (let i = from; i < to; i++) sum += lp[i]!;
  return sum;
}

describe('inference on the local node-llama-cpp server', () => {
  let dir: string;
  let server: LocalModelProcess;
  let config: Config;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'local-inference-'));
    const model = generateTinyModel({ outPath: path.join(dir, 'tiny.gguf'), seed: SEED });
    server = await startLocalModelProcess(model.path, { name: 'tiny', parallel: 4 });
    config = testConfig({
      address: '127.0.0.1:1',
      storageRoot: path.join(dir, 'store'),
      baseUrl: server.url,
      model: 'tiny',
      maxConcurrency: 4,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores rationale and problem spans exactly (log p(z|c) and log p(x|z,c))', async () => {
    const concepts = 'Concepts: modular arithmetic; pigeonhole principle.\n';
    const rationale =
      '<!-- BEGIN RATIONALE --> Combine residues mod 7 with a counting bound — naïve ∑ fails. <!-- END RATIONALE -->\n';
    const problem =
      '<!-- BEGIN PROBLEM --> Show that among 8 integers two differ by a multiple of 7. <!-- END PROBLEM -->';
    const text = concepts + rationale + problem;
    const spans = [
      { start: concepts.length, end: concepts.length + rationale.length },
      { start: concepts.length + rationale.length, end: text.length },
      { start: 0, end: text.length },
      { start: 0, end: concepts.length },
    ];
    const client = new InferenceClient(config.endpoints.main!, { name: 'local' });
    const scored = await client.scoreSpans({ text, spans });
    expect(scored.tokens.map((t) => t.text).join('')).toBe(text);
    const expected = spans.map((s) => referenceSpan(text, s.start, s.end));
    scored.spanLogProbs.forEach((got, i) => expect(Math.abs(got - expected[i]!)).toBeLessThan(1e-3));
    expect(scored.spanLogProbs[0]! + scored.spanLogProbs[1]! + scored.spanLogProbs[3]!).toBeCloseTo(
      scored.spanLogProbs[2]!,
      6,
    );
    // The joint reward R = log p(z|c) + log p(x|z,c) is what the E-step ranks rationales by.
    expect(scored.spanLogProbs[0]).toBeLessThan(0);

    // The same through the Temporal activity (what workflows call), in a mock activity context.
    const activities = createInferenceActivities(new InferencePool(config));
    const viaActivity: { spanLogProbs: number[] } = await new MockActivityEnvironment().run(activities.scoreSpans, {
      role: 'promptGenerator' as const,
      text,
      spans,
    });
    expect(viaActivity.spanLogProbs).toEqual(scored.spanLogProbs);
    client.close();
  });

  it('samples chat completions deterministically per seed, with usage', async () => {
    const client = new InferenceClient(config.endpoints.main!, { name: 'local' });
    const req = {
      messages: [{ role: 'user' as const, content: 'Write a problem about primes.' }],
      n: 2,
      seed: 11,
      temperature: 0.8,
      maxTokens: 24,
    };
    const a = await client.chat(req);
    const b = await client.chat(req);
    const c = await client.chat({ ...req, seed: 12 });
    expect(a.choices).toHaveLength(2);
    expect(a.choices.map((x) => x.text)).toEqual(b.choices.map((x) => x.text));
    expect(a.choices.map((x) => x.text)).not.toEqual(c.choices.map((x) => x.text));
    expect(a.usage.promptTokens).toBeGreaterThan(10);
    expect(a.usage.completionTokens).toBeGreaterThan(0);
    expect(client.usage().completionTokens).toBeGreaterThanOrEqual(a.usage.completionTokens * 3);
    client.close();
  });

  describe('a durable batch run on real inference', () => {
    let env: TestWorkflowEnvironment;
    let workers: TestWorkers | undefined;

    beforeAll(async () => {
      env = await startLocalTemporal();
      config = testConfig({
        address: env.address,
        storageRoot: path.join(dir, 'store'),
        baseUrl: server.url,
        model: 'tiny',
        maxConcurrency: 4,
      });
      workers = await runTestWorkers(env.nativeConnection, config, await bundleWorkflows(), [
        'orchestration',
        'inference',
        'cpu',
        'sandbox',
      ]);
    });

    afterAll(async () => {
      await workers?.stop();
      await env?.teardown();
    });

    it('generates every completion with provenance, and a re-run with the same seed reproduces them', async () => {
      const file = writeJsonl(
        path.join(dir, 'prompts.jsonl'),
        Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, prompt: `Problem ${i}: find x.` })),
      );
      const run = (name: string) =>
        env.client.workflow.execute('batchInference', {
          taskQueue: config.taskQueues.orchestration,
          workflowId: `${name}-${Date.now()}`,
          args: [
            {
              name,
              inputFiles: [file],
              shardSize: 4,
              chat: { role: 'promptGenerator', sampling: { n: 2, maxTokens: 24, seed: 8000 } },
            },
          ],
        });
      const first = await run('real-1');
      const second = await run('real-2');
      expect(first.completions.counts).toEqual({ items: 6, kept: 6, rows: 12, rejected: 0, failed: 0 });
      const store = new DatasetStore(config.storage.root);
      const rows = async (ref: never) => {
        const out: Array<Record<string, any>> = [];
        for await (const r of store.readAll(ref)) out.push(r as Record<string, any>);
        return out;
      };
      const a = await rows(first.completions.output as never);
      const b = await rows(second.completions.output as never);
      expect(a.map((r) => r.id)).toEqual([
        'p0#0',
        'p0#1',
        'p1#0',
        'p1#1',
        'p2#0',
        'p2#1',
        'p3#0',
        'p3#1',
        'p4#0',
        'p4#1',
        'p5#0',
        'p5#1',
      ]);
      expect(a.map((r) => r.completion)).toEqual(b.map((r) => r.completion));
      expect(a[0]!.provenance).toMatchObject({
        role: 'promptGenerator',
        model: 'tiny',
        sampling: { n: 2, maxTokens: 24, seed: expect.any(Number) },
      });
      expect(a[0]!.provenance.usage.promptTokens).toBeGreaterThan(0);
    });

    it('runs sftDistill to the end on the real model: every cell asked over HTTP, counted by a rule, report and card written', async () => {
      const result = (await env.client.workflow.execute('sftDistill', {
        taskQueue: config.taskQueues.orchestration,
        workflowId: `sft-local-${Date.now()}`,
        args: [
          {
            name: 'sft-local',
            promptFiles: [path.join(__dirname, '..', '..', 'scripts', 'examples', 'sft-prompts.jsonl')],
            teacher: { n: 2, maxTokens: 48 },
            parquet: true,
            training: { enabled: false },
          },
        ],
      })) as SftDistillResult;
      const store = new DatasetStore(config.storage.root);
      const teacher: Array<Record<string, any>> = [];
      for await (const r of store.readAll('sft-local/teacher')) teacher.push(r as Record<string, any>);
      // 5 prompts x 2 samples, each with the real tokenizer's prompt tokens and a finish reason
      expect(teacher.map((r) => r.id).sort()).toEqual(
        ['sft-c1', 'sft-c2', 'sft-m1', 'sft-m2', 'sft-m3'].flatMap((id) => [`${id}#0`, `${id}#1`]),
      );
      for (const r of teacher) {
        expect(r.model).toBe('tiny');
        expect(r.usage.promptTokens).toBeGreaterThan(10);
        expect(['stop', 'length']).toContain(r.finishReason);
      }
      expect(new Set(teacher.map((r) => r.seed)).size).toBe(10);
      const report = JSON.parse(readFileSync(store.resolve(result.report), 'utf8')) as SftReport;
      expect(report.cells).toBe(10);
      expect(report.addsUp).toBe(true);
      expect(result.training).toBe('disabled');
      expect(existsSync(path.join(store.datasetDir('sft-local/sft'), 'README.md'))).toBe(true);
    });

    it('runs evaluate to the end on the real model: shipped AIME 24 prompts sent raw to /v1/completions, scored, reported', async () => {
      const result = (await env.client.workflow.execute('evaluate', {
        taskQueue: config.taskQueues.orchestration,
        workflowId: `eval-local-${Date.now()}`,
        args: [
          {
            name: 'eval-local',
            models: [{ label: 'tiny', role: 'policy' }],
            benchmarks: ['aime24'],
            runs: { math: 1 },
            sampling: { maxTokens: 32 },
          },
        ],
      })) as EvaluateResult;
      expect(result.prepared.cells.items).toBe(30);
      const store = new DatasetStore(config.storage.root);
      const samples: Array<Record<string, any>> = [];
      for await (const r of store.readAll('eval-local/samples')) samples.push(r as Record<string, any>);
      expect(samples).toHaveLength(30);
      for (const r of samples) {
        expect(r.templated).toBe(true);
        expect(r.promptTokens).toBeGreaterThan(20);
        expect(r.servedBy).toBe('tiny');
      }
      const metrics = JSON.parse(readFileSync(store.resolve(result.summary.files.metrics), 'utf8')) as {
        results: Array<{ benchmark: string; metrics: { cells: number; problems: number } }>;
      };
      expect(metrics.results[0]).toMatchObject({ benchmark: 'aime24', metrics: { cells: 30, problems: 30 } });
      expect(existsSync(store.resolve(result.summary.files.report))).toBe(true);
    });
  });
});
