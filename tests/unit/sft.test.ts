// SFT distillation's pure rules and item operations: trace normalisation (harmony checked against a Python
// statement of the published fix_gptoss_completion on generated texts), the chat format of the rows, the per-cell
// filters in rule order, the seeded shuffle and the token-length histogram.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { DatasetRef } from '../../domain/core/dataset';
import { DatasetStore } from '../../activities/datasets/store';
import { ShuffledDatasetWriter } from '../../activities/datasets/shuffled';
import { TokenLengths, sftRuleOfReject } from '../../activities/sft/assemble';
import { loadTokenCounter } from '../../activities/sft/token-counter';
import { preparedOperation } from '../../activities/registry';
import { mulberry32 } from '../../domain/core/random';
import {
  domainOfPrompt,
  normaliseHarmony,
  normaliseThink,
  normaliseTrace,
  SftDistillInputSchema,
  sftPrompt,
  traceFormatOf,
} from '../../domain/sft-distill';

// fix_gptoss_completion and the prompt format as spec §4.2 states them, for the differential test
const PYTHON = String.raw`
import json, re, sys
def fix(completion):
    sentence = completion.strip()
    if not sentence.lower().startswith("analysis"):
        return None
    if sentence.lower().count("assistantfinal") != 1:
        return None
    processed = "<think>\n" + sentence[len("analysis"):]
    return re.sub(r"assistantfinal", "\n</think>\n\n", processed, flags=re.IGNORECASE)
def prompt(p):
    return ("<|im_start|>user\n" + p + "<|im_end|>\n<|im_start|>assistant\n").strip()
cases = json.load(sys.stdin)
print(json.dumps({"fixed": [fix(c) for c in cases["traces"]], "prompts": [prompt(p) for p in cases["prompts"]]}))
`;

function generated(count: number, seed: number): string[] {
  const parts = [
    'analysis',
    'ANALYSIS',
    'Analysis',
    'assistantfinal',
    'AssistantFinal',
    'assistant',
    'final',
    ' ',
    '\n',
    '\t',
    '\u00a0',
    '\u2003',
    'x = 2',
    '\\boxed{3}',
    'ſ',
    'İ',
    'K',
    '<think>',
    '</think>',
    'é',
    '😀',
  ];
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const n = 1 + Math.floor(random() * 8);
    return Array.from({ length: n }, () => parts[Math.floor(random() * parts.length)]!).join('');
  });
}

describe('trace normalisation', () => {
  it('harmony traces become what the published fix_gptoss_completion makes of them, or are dropped where it refuses', () => {
    const traces = [
      'analysisWe add.assistantfinal\\boxed{4}',
      '  ANALYSIS think AssistantFinal answer  ',
      'analysis a assistantfinal b assistantfinal c',
      'analysis no final',
      'commentary analysis assistantfinal x',
      ...generated(3000, 7),
      ...generated(3000, 9).map((t, i) => {
        const [lead, start, marker] = [
          [' ', '\n', ''][i % 3],
          ['analysis', 'Analysis', 'ANALYSIS'][i % 3],
          ['assistantfinal', 'AssistantFinal'][i % 2],
        ];
        const [a, b] = [t.slice(0, t.length >> 1), t.slice(t.length >> 1)];
        return `${lead}${start}${a}${marker}${b}`;
      }),
    ];
    const prompts = ['What?', '  padded  ', 'ends in newlines\n\n', '\u00a0nbsp\u00a0', ...generated(300, 8)];
    const python = JSON.parse(
      execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify({ traces, prompts }), encoding: 'utf8' }),
    ) as { fixed: Array<string | null>; prompts: string[] };
    let compared = 0;
    traces.forEach((t, i) => {
      const ours = normaliseHarmony(t);
      const theirs = python.fixed[i];
      if (theirs === null) expect(ours.ok).toBe(false);
      // we also refuse an empty analysis or final channel, which the published function keeps
      else if (ours.ok) {
        expect(ours.trace).toBe(theirs);
        compared++;
      } else expect(ours.reason).toMatch(/empty (analysis|final) channel/);
    });
    expect(compared).toBeGreaterThan(1000);
    prompts.forEach((p, i) => expect(sftPrompt(p)).toBe(python.prompts[i]));
  });

  it('names the rule of a harmony trace it drops', () => {
    expect(normaliseHarmony('analysis thinking, cut off')).toMatchObject({ ok: false, rule: 'unfinished-trace' });
    expect(normaliseHarmony('analysis a assistantfinal b ASSISTANTFINAL c')).toMatchObject({
      ok: false,
      rule: 'malformed-trace',
      reason: '"assistantfinal" 2 times (exactly once needed)',
    });
    expect(normaliseHarmony('final answer assistantfinal 3')).toMatchObject({ ok: false, rule: 'malformed-trace' });
    expect(normaliseHarmony('analysisassistantfinal 3')).toMatchObject({ ok: false, reason: 'empty analysis channel' });
  });

  it('normalises <think> traces with or without the opening tag, and split reasoning fields', () => {
    expect(normaliseThink('<think>\n  Reason.  \n</think>\n\nAnswer.\n')).toEqual({
      ok: true,
      trace: '<think>\nReason.\n</think>\n\nAnswer.',
      format: 'think',
    });
    expect(normaliseThink('Reason.</think>Answer.')).toMatchObject({
      ok: true,
      trace: '<think>\nReason.\n</think>\n\nAnswer.',
    });
    expect(normaliseThink('<think>\nstill thinking')).toMatchObject({ ok: false, rule: 'unfinished-trace' });
    expect(normaliseThink('a</think>b</think>c')).toMatchObject({ ok: false, rule: 'malformed-trace' });
    expect(normaliseThink('<think>\n\n</think>\n\nAnswer.')).toMatchObject({ ok: false, reason: 'empty reasoning' });
    expect(normaliseThink('<think>Reason.</think>  ')).toMatchObject({ ok: false, rule: 'malformed-trace' });
    expect(normaliseTrace('\nThe answer.', '\nReasoning.\n')).toEqual({
      ok: true,
      trace: '<think>\nReasoning.\n</think>\n\nThe answer.',
      format: 'split',
    });
    expect(normaliseTrace('The answer.', undefined, 'split')).toMatchObject({ ok: false, rule: 'malformed-trace' });
  });

  it('tells the formats apart', () => {
    expect(traceFormatOf('analysisA.assistantfinalB.', undefined)).toBe('harmony');
    expect(traceFormatOf('The plan assistantfinal answer', undefined)).toBe('harmony');
    expect(traceFormatOf('Analysis of the problem.</think>Answer.', undefined)).toBe('think');
    expect(traceFormatOf('<think>Analysis', undefined)).toBe('think');
    expect(traceFormatOf('Okay, so', undefined)).toBe('think');
    expect(traceFormatOf('Answer.', 'reasoning')).toBe('split');
  });

  it('finds the domain of a record: domain, else the self-play source, else the run default', () => {
    expect(domainOfPrompt({ domain: 'code', source: 'PromptCoT-Math' }, 'math')).toBe('code');
    expect(domainOfPrompt({ source: 'OpenSource-Code' }, 'math')).toBe('code');
    expect(domainOfPrompt({ source: 'PromptCoT-Math' }, undefined)).toBe('math');
    expect(domainOfPrompt({}, 'math')).toBe('math');
    expect(domainOfPrompt({}, undefined)).toBeUndefined();
  });

  it('validates the workflow input, naming the field', () => {
    expect(() => SftDistillInputSchema.parse({ name: 'x' })).toThrow(/exactly one of promptFiles and prompts/);
    expect(() =>
      SftDistillInputSchema.parse({ name: 'x', promptFiles: ['a'], filters: { minLen: 10, maxLen: 10 } }),
    ).toThrow(/must be below maxLen/);
    const parsed = SftDistillInputSchema.parse({ name: 'x', promptFiles: ['a'] });
    expect(parsed.teacher).toMatchObject({ role: 'teacher', n: 1, temperature: 1, topP: 1, maxTokens: 16384 });
    expect(parsed.filters).toMatchObject({ maxLen: 16384, minLen: 0, tokenizer: { kind: 'qwen3' }, verifyMath: false });
    expect(parsed.training.hyperparameters).toEqual({ batchSize: 1024, learningRate: 8e-5 });
  });
});

describe('filterTrace and prepareSftPrompt', () => {
  const filter = preparedOperation('filterTrace');
  const prepare = preparedOperation('prepareSftPrompt');
  const ctx = { stage: 't', sourceId: 'x', shard: 0, line: 1, attempt: 1, signal: new AbortController().signal };
  const base = {
    id: 'p#0',
    itemId: 'p',
    j: 0,
    prompt: 'Q?',
    usage: { promptTokens: 1, completionTokens: 1 },
    model: 'm',
    seed: 1,
    attempt: 1,
  };
  const run = (record: Record<string, unknown>, params: Record<string, unknown> = {}) =>
    filter.run({ ...base, ...record }, filter.parseParams(params), ctx);
  const rule = async (record: Record<string, unknown>, params: Record<string, unknown> = {}) => {
    const out = await run(record, params);
    return 'reject' in out ? (out.detail as { rule: string }).rule : 'kept';
  };

  it('applies the rules in order and keeps the published row with its token count', async () => {
    const good = 'analysisThink.assistantfinal$\\boxed{2}$';
    // finish reason length wins over everything else
    expect(await rule({ domain: 'math', raw: good, finishReason: 'length' })).toBe('cut-at-length');
    expect(await rule({ domain: 'math', raw: 'analysisThink.', finishReason: 'stop' })).toBe('unfinished-trace');
    expect(await rule({ domain: 'math', raw: 'Think.</think>No box.', finishReason: 'stop' })).toBe('no-boxed');
    // a box inside the reasoning is not a final answer
    expect(await rule({ domain: 'math', raw: '\\boxed{2}</think>Two.', finishReason: 'stop' })).toBe('no-boxed');
    expect(await rule({ domain: 'code', raw: 'Think.</think>```python\n\n```', finishReason: 'stop' })).toBe('no-code');
    expect(await rule({ domain: 'code', raw: '```python\nprint(1)\n```</think>Done.', finishReason: 'stop' })).toBe(
      'no-code',
    );
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop' }, { verifyMath: true })).toBe(
      'no-reference-answer',
    );
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop', answer: '3' }, { verifyMath: true })).toBe(
      'wrong-answer',
    );
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop', answer: '2.0' }, { verifyMath: true })).toBe(
      'kept',
    );
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop' }, { maxLen: 30 })).toBe('too-long');
    const out = await run({ domain: 'math', raw: good, finishReason: 'stop' });
    const counter = await loadTokenCounter({ kind: 'qwen3' });
    const row = (out as { rows: Array<Record<string, unknown>> }).rows[0]!;
    expect(row).toEqual({
      id: 'p#0',
      itemId: 'p',
      j: 0,
      domain: 'math',
      prompt: '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant',
      completion: '\n<think>\nThink.\n</think>\n\n$\\boxed{2}$',
      tokens: counter.count(
        '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\nThink.\n</think>\n\n$\\boxed{2}$',
      ),
      tokenizer: counter.id,
      format: 'harmony',
      model: 'm',
      seed: 1,
    });
    // the length rule: tokens + 20 < maxLen keeps the row
    const tokens = row.tokens as number;
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop' }, { maxLen: tokens + 21 })).toBe('kept');
    expect(await rule({ domain: 'math', raw: good, finishReason: 'stop' }, { maxLen: tokens + 20 })).toBe('too-long');
  });

  it('makes n cells per prompt, without the chat turn, and sets aside a record without a domain for all n', async () => {
    const out = await prepare.run(
      { id: 7, source: 'PromptCoT-Code', prompt: '<|im_start|>user\nWrite it.<|im_end|>\n<|im_start|>assistant' },
      prepare.parseParams({ n: 2 }),
      ctx,
    );
    expect(out).toEqual({
      rows: [
        { id: '7#0', itemId: '7', j: 0, domain: 'code', prompt: 'Write it.' },
        { id: '7#1', itemId: '7', j: 1, domain: 'code', prompt: 'Write it.' },
      ],
    });
    const rejected = await prepare.run({ id: 'x', prompt: 'No domain.' }, prepare.parseParams({ n: 3 }), ctx);
    expect(rejected).toMatchObject({ detail: { rule: 'invalid-record', cells: 3 } });
    expect(await prepare.run({ id: 'y', prompt: '  ' }, prepare.parseParams({}), ctx)).toMatchObject({
      reject: expect.stringContaining('field prompt'),
    });
  });

  it('counts a rejects line under its rule, a failed item as failed, anything else as an invalid record', () => {
    expect(sftRuleOfReject({ kind: 'rejected', reason: 'x', detail: { rule: 'no-code' } } as never)).toBe('no-code');
    expect(sftRuleOfReject({ kind: 'failed', reason: 'x' } as never)).toBe('failed');
    expect(sftRuleOfReject({ kind: 'rejected', reason: 'field prompt: …' } as never)).toBe('invalid-record');
  });
});

describe('the seeded shuffle and the histogram', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'sft-unit-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same order for the same keys, every row once, and removes its scratch file', async () => {
    const store = new DatasetStore(dir);
    const write = (name: string): Promise<DatasetRef> =>
      new MockActivityEnvironment().run(async () => {
        const w = await ShuffledDatasetWriter.open(store, name, 1);
        for (let i = 0; i < 50; i++) w.add((i * 7919) % 101, `r${i}`, { i, text: `row ${i}\nline` });
        return w.write(store, name, { shardSize: 16, producedBy: { test: true } });
      });
    const a = await write('a');
    const b = await write('b');
    const read = async (name: string) => {
      const out: number[] = [];
      for await (const r of store.readAll(name)) out.push((r as { i: number }).i);
      return out;
    };
    const order = await read('a');
    expect(order).toEqual(await read('b'));
    expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(order).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a.shards).toBe(4);
    expect(b.items).toBe(50);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(store.datasetDir('a')).filter((f) => f.startsWith('.unshuffled'))).toEqual([]);
  });

  it('bins token lengths of kept rows', () => {
    const h = new TokenLengths(1024, 4);
    for (const t of [0, 255, 256, 700, 1023, 5000]) h.add(t);
    expect(h.histogram()).toEqual({ binWidth: 256, bins: [2, 1, 1, 2], min: 0, max: 5000, mean: 1205.7 });
  });
});
