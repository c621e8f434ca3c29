// sftDistill end to end on a real Temporal server: a mixed code + math corpus whose teacher traces the fake server
// scripts by seed (gpt-oss harmony text, Qwen `<think>` text and a split reasoning field; well-formed, two
// `assistantfinal`, cut at max tokens, unfinished, no code, no box, too long, a duplicate prompt, a wrong answer and
// one without a reference under verifyMath, a request that fails for good, bad lines), the example trainer as the
// real external trainer, and the worker (a child process) SIGKILLed while the teacher stage runs.
// Checks: the exact kept rows, per-rule counts that add up to the input, no cell asked twice beyond the in-flight
// window, the card, report, histogram and Parquet files, the trained student, and byte-identical output from a
// second run with the same seed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import type { SftReport } from '../../activities/sft/assemble';
import { loadTokenCounter } from '../../activities/sft/token-counter';
import type { Config } from '../../domain/platform/config';
import { deriveSeed } from '../../domain/core/seeds';
import { traceSeedKey } from '../../domain/sft-distill';
import type { FakeChoice, FakeOpenAIServer } from '../../lib/fake-openai-server';
import type { SftDistillResult } from '../../workflows/sft-distill';
import { exampleTraining } from '../support/config';
import { pythonTools } from '../support/python-tools';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import {
  datasetBytes,
  datasetRows,
  killWhenRecorded,
  pipelineTestConfig,
  workerProcesses,
} from '../support/pipeline-runs';
import { spawnWorker, writeConfigFile } from '../support/worker-process';

const SEED = 5;
const MAX_LEN = 2048;
const FILLERS = 40;
const SHARD = 6;
const SHARDS_AT_ONCE = 2;
const ITEMS_AT_ONCE = 2;

const MATH = (q: string) => `${q} Please reason step by step, and put your final answer within \\boxed{}.`;
const CODE = (q: string) =>
  `${q}\n\nWrite a Python program that reads standard input, in one \`\`\`python code block.\n\n`;
const harmony = (analysis: string, final: string) => `analysis${analysis}assistantfinal${final}`;
const qwen = (thinking: string, answer: string) => `<think>\n${thinking}\n</think>\n\n${answer}`;
const SUM_PROGRAM = '```python\na, b = map(int, input().split())\nprint(a + b)\n```';

interface Case {
  record: Record<string, unknown> | string;
  /** the teacher's answer for this prompt (undefined: no request expected) */
  teacher?: string | FakeChoice | 'fail';
}

const CASES: Record<string, Case> = {
  'm-harmony': {
    record: { id: 'm-harmony', domain: 'math', prompt: MATH('What is 7^100 mod 5?'), answer: '1' },
    teacher: harmony('We need 7^100 mod 5. 7 = 2 mod 5, 2^4 = 1, so 1.', 'The remainder is $\\boxed{1}$.'),
  },
  'm-two-final': {
    record: { id: 'm-two-final', domain: 'math', prompt: MATH('What is 2 + 2?'), answer: '4' },
    teacher: harmony('Add.', 'assistantfinal $\\boxed{4}$'),
  },
  'm-cut': {
    record: { id: 'm-cut', domain: 'math', prompt: MATH('What is 3 * 3?'), answer: '9' },
    teacher: { content: 'analysisLet me multiply three by three, carefully, step', finishReason: 'length' },
  },
  'm-unfinished': {
    record: { id: 'm-unfinished', domain: 'math', prompt: MATH('What is 10 - 4?'), answer: '6' },
    teacher: 'analysisSubtract four from ten and then',
  },
  'c-qwen': {
    record: { id: 'c-qwen', domain: 'code', prompt: CODE('Read a and b, print a + b.') },
    teacher: qwen('Read both numbers and add them.', `Here is the program.\n\n${SUM_PROGRAM}`),
  },
  'c-no-code': {
    record: { id: 'c-no-code', source: 'PromptCoT-Code', prompt: CODE('Print the product of a and b.') },
    teacher: qwen('Multiply.', 'Just multiply the two numbers and print the result.'),
  },
  'm-no-box': {
    record: { id: 'm-no-box', domain: 'math', prompt: MATH('What is 5 + 6?'), answer: '11' },
    teacher: qwen('Five plus six.', 'It is eleven.'),
  },
  'm-too-long': {
    record: { id: 'm-too-long', domain: 'math', prompt: MATH('What is 1 + 1?'), answer: '2' },
    teacher: qwen(
      Array.from({ length: 400 }, (_, i) => `Step ${i}: we check that one plus one is still two.`).join('\n'),
      '$\\boxed{2}$',
    ),
  },
  'm-dup': {
    record: { id: 'm-dup', domain: 'math', prompt: MATH('What is 7^100 mod 5?'), answer: '1' },
    teacher: harmony('Powers of 2 mod 5 cycle with period 4.', '$\\boxed{1}$'),
  },
  'm-wrong': {
    record: { id: 'm-wrong', domain: 'math', prompt: MATH('How many divisors does 360 have?'), answer: '24' },
    teacher: harmony('360 = 2^3 3^2 5, so 4*3*2 = 25.', 'So $\\boxed{25}$.'),
  },
  'm-split': {
    record: { id: 'm-split', source: 'OpenSource-Math', prompt: MATH('x + 1/x = 3. Find x^2 + 1/x^2.'), answer: '7' },
    teacher: { content: '\nSquaring gives $\\boxed{7}$.', reasoning: 'Square both sides: x^2 + 2 + 1/x^2 = 9.\n' },
  },
  'm-no-ref': {
    record: { id: 'm-no-ref', domain: 'math', prompt: MATH('What is 8 / 2?') },
    teacher: qwen('Halve eight.', '$\\boxed{4}$'),
  },
  'c-fail': {
    record: { id: 'c-fail', domain: 'code', prompt: CODE('FAIL-ME: print hello.') },
    teacher: 'fail',
  },
  'no-domain': { record: { id: 'no-domain', prompt: 'A record with neither domain nor source.' } },
  'bad-line': { record: 'this line is not JSON' },
};

function filler(i: number): Case {
  return i % 2 === 0
    ? {
        record: { id: `f${i}`, domain: 'math', prompt: MATH(`What is ${i} + ${i}?`), answer: String(2 * i) },
        teacher: harmony(`Double ${i}.`, `$\\boxed{${2 * i}}$`),
      }
    : {
        record: { id: `f${i}`, domain: 'code', prompt: CODE(`Print ${i} times a.`) },
        teacher: qwen(`Multiply by ${i}.`, `\`\`\`python\nprint(${i} * int(input()))\n\`\`\``),
      };
}

const ALL: Case[] = [...Object.values(CASES), ...Array.from({ length: FILLERS }, (_, i) => filler(i))];

function script(): Map<number, string | FakeChoice | 'fail'> {
  const bySeed = new Map<number, string | FakeChoice | 'fail'>();
  for (const c of ALL) {
    if (c.teacher === undefined || typeof c.record === 'string') continue;
    const seed = deriveSeed(SEED, traceSeedKey(String(c.record.id)), 0);
    if (bySeed.has(seed)) throw new Error(`seed collision ${seed}`);
    bySeed.set(seed, c.teacher);
  }
  return bySeed;
}

describe('sftDistill', () => {
  const bySeed = script();
  const ctx = useTemporalAndFake('sft', {
    latencyMs: 60,
    respond: (body) => {
      const answer = bySeed.get(body.seed as number);
      if (answer === undefined || answer === 'fail')
        throw new Error(`unscripted request with seed ${String(body.seed)}`);
      return answer;
    },
    // the c-fail cell: a 400 is not retried, so its item fails for good
    faults: (_i, body) =>
      JSON.stringify(body).includes('FAIL-ME') ? { type: 'status', status: 400, message: 'bad request' } : undefined,
  });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  const workers = workerProcesses(ctx);
  beforeAll(() => {
    ({ env, fake } = ctx);
  });

  const promptFile = path.join(tmp.dir, 'prompts.jsonl');
  function setUp(prefix: string) {
    const config: Config = pipelineTestConfig({
      address: env.address,
      prefix,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      model: 'gpt-oss-fake',
      more: {
        training: exampleTraining(tmp.dir),
      },
    });
    writeFileSync(
      promptFile,
      ALL.map((c) => (typeof c.record === 'string' ? c.record : JSON.stringify(c.record))).join('\n') + '\n',
    );
    return { config, configFile: writeConfigFile(path.join(tmp.dir, `${prefix}.yaml`), config) };
  }

  const input = (name: string) => ({
    name,
    promptFiles: [promptFile],
    seed: SEED,
    filters: { maxLen: MAX_LEN, verifyMath: true },
    parquet: true,
    student: { version: 'student-0' },
    shardSize: SHARD,
    maxConcurrentShards: SHARDS_AT_ONCE,
    itemConcurrency: ITEMS_AT_ONCE,
    heartbeatTimeoutSeconds: 5,
  });

  it('distills the scripted corpus: exact rows, every cell counted once, resumed after a SIGKILL, reproducible', async () => {
    const { config, configFile } = setUp(`sft${Date.now().toString(36)}`);
    const store = new DatasetStore(config.storage.root);
    fake.reset();
    workers.push(spawnWorker(configFile));
    await workers[0]!.ready;
    const first = await env.client.workflow.start('sftDistill', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sft-a-${Date.now()}`,
      args: [input('sft-a')],
    });

    // kill the worker once 8 teacher cells are recorded in the stage's attempt files, with requests in flight
    const kill = await killWhenRecorded(workers[0]!, {
      store,
      dataset: 'sft-a/teacher',
      atLeast: 8,
      fake,
      inFlight: 2,
    });
    const atKill = kill.recorded.length;
    const requestsAtKill = kill.requests;
    expect(atKill).toBeGreaterThanOrEqual(8);
    expect(requestsAtKill).toBeGreaterThan(atKill); // the kill landed with requests in flight
    expect(atKill).toBeLessThan(ALL.length - 10);
    workers.push(spawnWorker(configFile));
    await workers[1]!.ready;
    const a = (await first.result()) as SftDistillResult;

    // no cell asked twice beyond the requests in flight when the worker died
    const asked = new Map<number, number>();
    for (const r of fake.requestLog) {
      const seed = (r.body as { seed?: number }).seed;
      if (typeof seed === 'number' && !JSON.stringify(r.body).includes('FAIL-ME'))
        asked.set(seed, (asked.get(seed) ?? 0) + 1);
    }
    const askedTwice = [...asked.values()].filter((n) => n > 1).length;
    console.log(
      `sftDistill: ${atKill} cells recorded and ${requestsAtKill} requests sent at the kill, ${askedTwice} asked twice, ${fake.requests} requests in all`,
    );
    expect(asked.size).toBe(bySeed.size - 1);
    expect(askedTwice).toBeLessThanOrEqual(SHARDS_AT_ONCE * ITEMS_AT_ONCE);
    expect([...asked.values()].every((n) => n <= 2)).toBe(true);

    // the report: every cell kept or dropped by exactly one named rule
    const report = JSON.parse(readFileSync(store.resolve(a.report), 'utf8')) as SftReport;
    const nonZero = Object.fromEntries(Object.entries(report.dropped).filter(([, n]) => n > 0));
    expect(nonZero).toEqual({
      'invalid-record': 2,
      failed: 1,
      'cut-at-length': 1,
      'unfinished-trace': 1,
      'malformed-trace': 1,
      'no-code': 1,
      'no-boxed': 1,
      'no-reference-answer': 1,
      'wrong-answer': 1,
      'too-long': 1,
      'duplicate-prompt': 1,
    });
    expect(report.cells).toBe(ALL.length);
    expect(report.kept).toBe(3 + FILLERS);
    expect(report.kept + Object.values(report.dropped).reduce((x, y) => x + y, 0)).toBe(report.cells);
    expect(report.addsUp).toBe(true);
    expect(report.formats).toEqual({ harmony: 1 + FILLERS / 2, think: 1 + FILLERS / 2, split: 1 });
    expect(report.models).toEqual(['gpt-oss-fake']);
    expect(report.tokenLengths.bins.reduce((x, y) => x + y, 0)).toBe(report.kept);

    // the exact rows of the scripted prompts, in the published format
    const out = await datasetRows(store, a.dataset.name);
    expect(out.every((r) => Object.keys(r).join() === 'prompt,completion')).toBe(true);
    const byPrompt = new Map(out.map((r) => [r.prompt as string, r.completion as string]));
    const chat = (p: string) => `<|im_start|>user\n${p}<|im_end|>\n<|im_start|>assistant`;
    expect(byPrompt.get(chat(MATH('What is 7^100 mod 5?')))).toBe(
      '\n<think>\nWe need 7^100 mod 5. 7 = 2 mod 5, 2^4 = 1, so 1.\n</think>\n\nThe remainder is $\\boxed{1}$.',
    );
    expect(byPrompt.get(chat(CODE('Read a and b, print a + b.')))).toBe(
      `\n<think>\nRead both numbers and add them.\n</think>\n\nHere is the program.\n\n${SUM_PROGRAM}`,
    );
    expect(byPrompt.get(chat(MATH('x + 1/x = 3. Find x^2 + 1/x^2.')))).toBe(
      '\n<think>\nSquare both sides: x^2 + 2 + 1/x^2 = 9.\n</think>\n\nSquaring gives $\\boxed{7}$.',
    );
    // token counts as the student's tokenizer gives them, with the counter named
    const traces = await datasetRows(store, 'sft-a/traces');
    const counter = await loadTokenCounter({ kind: 'qwen3' });
    for (const t of traces) expect(t.tokens).toBe(counter.count(`${t.prompt}${t.completion}`));
    expect(report.tokenizer).toBe(counter.id);
    // the shuffled order is not the corpus order, and every row has a distinct prompt
    expect(new Set(out.map((r) => r.prompt)).size).toBe(out.length);
    expect(out.map((r) => r.prompt)).not.toEqual(traces.filter((t) => t.id !== 'm-dup#0').map((t) => t.prompt));

    // the files beside the data: card, histogram, Parquet that Hugging Face datasets reads
    const dir = store.datasetDir(a.dataset.name);
    const card = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(card).toContain('path: "shard-*.parquet"');
    expect(card).toContain(`| duplicate-prompt | 1 |`);
    expect(card).toContain(counter.id);
    expect(readFileSync(store.resolve(report.files.histogram)).subarray(1, 4).toString()).toBe('PNG');
    const loaded = JSON.parse(
      execFileSync(
        pythonTools(),
        [
          '-c',
          'import sys, json, datasets; d = datasets.load_dataset(sys.argv[1], split="train"); print(json.dumps({"n": len(d), "columns": d.column_names, "rows": [d[i] for i in range(len(d))]}))',
          dir,
        ],
        { encoding: 'utf8', env: { ...process.env, HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1' } },
      ),
    ) as { n: number; columns: string[]; rows: Array<{ prompt: string; completion: string }> };
    expect(loaded.n).toBe(out.length);
    expect(loaded.columns).toEqual(['prompt', 'completion']);
    expect(loaded.rows).toEqual(out);

    // the student trained on the rows and activated
    expect(a.training).toBe('trained');
    expect(a.student.version).not.toBe('student-0');
    expect(existsSync(path.join(tmp.dir, 'training', 'sft-a', 'student'))).toBe(true);

    // a second run with the same seed writes the same bytes
    fake.reset();
    const second = await env.client.workflow.execute('sftDistill', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sft-b-${Date.now()}`,
      args: [{ ...input('sft-b'), training: { enabled: false } }],
    });
    expect((second as SftDistillResult).training).toBe('disabled');
    expect(datasetBytes(store, 'sft-b/sft')).toBe(datasetBytes(store, 'sft-a/sft'));
  }, 600_000);
});
