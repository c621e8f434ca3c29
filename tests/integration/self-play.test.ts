// selfPlay end to end on a real Temporal server: a mixed code + math corpus (synthetic and open-source, with bad
// lines, a contaminated AIME problem, a proof, a trivial answer, a problem whose written tests are unusable and one
// without any votable answer), two rounds against the fake server's scripted completions (every verdict known in
// advance: the script maps each request's seed back to its item, round and rollout), Python programs run in the
// real sandbox, and the example trainer as the real external trainer writing an adapter per round.
// The worker (a child process) is SIGKILLed while it scores the first round's rollouts; a new worker finishes the
// run. Checks: every rollout scored exactly once (the ones recorded before the crash were not redone), the expected
// pairs and report counts (every prompt kept or dropped by a named rule), the adapters, and byte-identical pairs
// from a second run with the same seed.
import { exampleTraining } from '../support/config';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import { formatProblem } from '../../activities/prompts/problems';
import type { Config } from '../../domain/platform/config';
import { deriveSeed } from '../../domain/core/seeds';
import { rolloutSeedKey } from '../../domain/self-play';
import type { RoundReport } from '../../activities/self-play/pairs';
import type { SelfPlayResult, SelfPlayStatus } from '../../workflows/self-play';
import type { FakeOpenAIServer } from '../../lib/fake-openai-server';
import { saveHistoryFixture } from '../support/histories';
import { useTemporalAndFake } from '../support/temporal-and-fake';
import {
  datasetBytes,
  datasetRows,
  killWhenRecorded,
  pipelineTestConfig,
  workerProcesses,
} from '../support/pipeline-runs';
import { spawnWorker, writeConfigFile } from '../support/worker-process';

const AIME24 = benchmarkFile('aime24');
const SEED = 11;
const K = 8;

const SUM = 'Read two integers a and b from one line and print their sum.';
const MAX = 'The first line holds n, the second n integers. Print the largest of them.';
const aimeStatement = (JSON.parse(readFileSync(AIME24, 'utf8').split('\n')[3]!) as { prompt: string }).prompt
  .replace('<|im_start|>user\n', '')
  .split('<|im_end|>')[0]!;

const PROMPTS: Array<Record<string, unknown> | string> = [
  { id: 'code-sum', source: 'PromptCoT-Code', prompt: formatProblem('code', SUM) },
  {
    id: 'code-bad-tests',
    source: 'PromptCoT-Code',
    prompt: formatProblem('code', 'Read two integers and print their product.'),
  },
  {
    id: 'code-max',
    source: 'OpenSource-Code',
    prompt: formatProblem('code', MAX),
    test_cases: [
      { input: '3\n1 5 2\n', output: '5\n' },
      { input: '1\n-4\n', output: '-4\n' },
    ],
  },
  { id: 'math-vote', source: 'PromptCoT-Math', prompt: formatProblem('math', 'What is six times seven?') },
  {
    id: 'math-ref',
    source: 'OpenSource-Math',
    prompt: formatProblem('math', 'Compute three times four.'),
    answer: '12',
  },
  {
    id: 'math-proof',
    source: 'PromptCoT-Math',
    prompt: formatProblem('math', 'Prove that there are infinitely many primes.'),
  },
  {
    id: 'math-trivial',
    source: 'PromptCoT-Math',
    prompt: formatProblem('math', 'How many positive divisors does a prime squared have, minus two?'),
    answer: '1',
  },
  { id: 'math-aime', source: 'OpenSource-Math', prompt: formatProblem('math', aimeStatement), answer: '7' },
  { id: 'math-no-answer', source: 'PromptCoT-Math', prompt: formatProblem('math', 'Describe the colour of the sky.') },
  { id: 'no-source', prompt: 'a record without its source' },
  'this line is not JSON',
];

const think = (text: string) => `Let me think.\n${text}\n</think>\n\n`;
const program = (body: string) => (j: number) =>
  `${think(`I will write the program, attempt ${j}.`)}\`\`\`python\nimport time\ntime.sleep(0.3)\n${body}\n\`\`\``;
const SUM_RIGHT = program('a, b = map(int, input().split())\nprint(a + b)');
const SUM_WRONG = program('a, b = map(int, input().split())\nprint(a - b)');
const MAX_RIGHT = program('n = int(input())\nprint(max(map(int, input().split())))');
const MAX_WRONG = program('n = int(input())\nprint(min(map(int, input().split())))');
const boxed = (answer: string, j: number) => `${think(`Working, attempt ${j}.`)}The answer is $\\boxed{${answer}}$.`;
const MIXED = (answer: string) => `${think('Working.')}答案是 $\\boxed{${answer}}$.`;

/** The scripted policy: what rollout j of an item says in a round (so the verdict of every rollout is known). */
function rollout(item: string, round: number, j: number): string {
  switch (`${item}/${round}`) {
    case 'code-sum/1':
      return j < 2 ? SUM_RIGHT(j) : SUM_WRONG(j); // 2/8 → kept, 2 pairs
    case 'code-sum/2':
      return j < 1 ? SUM_RIGHT(j) : SUM_WRONG(j); // 1/8 → kept, 1 pair
    case 'code-max/1':
      return MAX_RIGHT(j); // 8/8 → too easy
    case 'code-max/2':
      return j < 4 ? MAX_RIGHT(j) : MAX_WRONG(j); // 4/8 → too easy (the paper's rule)
    case 'math-vote/1':
      return j < 3 ? boxed('42', j) : j === 3 ? MIXED('41') : boxed('41', j); // 3/8, one invalid failure → 3 pairs
    case 'math-vote/2':
      return j < 2 ? boxed('42', j) : boxed('40', j); // 2/8 → 2 pairs
    case 'math-ref/1':
      return boxed('13', j); // 0/8 → unsolved
    case 'math-ref/2':
      return j === 0 ? MIXED('12') : boxed('11', j); // 1/8 but the passing one is mixed-language → no valid chosen
    default:
      throw new Error(`no rollout scripted for ${item} round ${round}`);
  }
}

const SUM_TESTS = [
  '{"input": "1 2", "output": "3"}',
  '{"input": "5 7", "output": "12"}',
  '{"input": "10 -3", "output": "7"}',
];
const WRONG_TEST = '{"input": "2 2", "output": "5"}';

/** Every scripted request, by its seed. */
function script(): Map<number, string> {
  const bySeed = new Map<number, string>();
  const put = (seed: number, text: string) => {
    if (bySeed.has(seed)) throw new Error(`seed collision ${seed}`);
    bySeed.set(seed, text);
  };
  for (let r = 0; r < 4; r++) {
    // three good tests and one with a wrong expected output, which the cross-check removes
    put(
      deriveSeed(SEED, 'code-sum\u0000tests', r),
      `<think>\nAn edge case.\n</think>\n\n\`\`\`json\n${r < 3 ? SUM_TESTS[r] : WRONG_TEST}\n\`\`\``,
    );
    put(deriveSeed(SEED, 'code-bad-tests\u0000tests', r), '```json\n{"input": {"a": 2, "b": 3}, "output": 6}\n```');
  }
  // the cross-check's independent solutions: two right, one wrong, so the majority output of every test is a + b
  for (let m = 0; m < 3; m++)
    put(deriveSeed(SEED, 'code-sum\u0000cross-check', m), m < 2 ? SUM_RIGHT(100 + m) : SUM_WRONG(100 + m));
  for (let i = 0; i < K; i++) {
    put(deriveSeed(SEED, 'math-vote\u0000answer', i), i < 6 ? boxed('42', i) : boxed('24', i));
    put(deriveSeed(SEED, 'math-no-answer\u0000answer', i), `${think('Hmm.')}It is blue.`);
  }
  for (const item of ['code-sum', 'code-max', 'math-vote', 'math-ref']) {
    for (const round of [1, 2])
      for (let j = 0; j < K; j++) put(deriveSeed(SEED, rolloutSeedKey(item, round), j), rollout(item, round, j));
  }
  return bySeed;
}

describe('selfPlay', () => {
  const bySeed = script();
  const ctx = useTemporalAndFake('self-play', (body) => {
    const text = bySeed.get(body.seed as number);
    if (text === undefined) throw new Error(`unscripted request with seed ${String(body.seed)}`);
    return text;
  });
  const { tmp } = ctx;
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAIServer;
  const workers = workerProcesses(ctx);

  beforeAll(() => {
    ({ env, fake } = ctx);
  });

  /** A config on task queues of its own (so each test's workers serve only it), its file, and the prompt file. */
  function setUp(prefix: string, trainerEnv: Record<string, string> = {}) {
    const config: Config = pipelineTestConfig({
      address: env.address,
      prefix,
      storageRoot: path.join(tmp.dir, 'store'),
      baseUrl: fake.url,
      model: 'policy-0',
      more: {
        sandbox: { concurrency: 2 },
        training: exampleTraining(tmp.dir, { env: trainerEnv }),
      },
    });
    const configFile = writeConfigFile(path.join(tmp.dir, `${prefix}.yaml`), config);
    writeFileSync(promptFile, PROMPTS.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('\n') + '\n');
    return { config, configFile };
  }

  const promptFile = path.join(tmp.dir, 'prompts.jsonl');
  const input = (name: string, rounds = 2) => ({
    name,
    promptFiles: [promptFile],
    seed: SEED,
    rounds,
    k: K,
    policy: { version: 'policy-0' },
    contamination: { benchmarkFiles: [AIME24] },
    crossCheck: { solutions: 3, action: 'drop' },
    shardSize: 4,
    rewardItemConcurrency: 1,
    heartbeatTimeoutSeconds: 5,
  });

  it('two rounds over mixed code + math, surviving a worker crash while scoring, with the expected pairs and reports, byte-identical on a re-run', async () => {
    const { config, configFile } = setUp(`sp${Date.now().toString(36)}`);
    const store = new DatasetStore(config.storage.root);
    workers.push(spawnWorker(configFile));
    await workers[0]!.ready;

    const first = await env.client.workflow.start('selfPlay', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sp-a-${Date.now()}`,
      args: [input('sp-a')],
    });

    // kill the worker once a few rollouts of round 1 are scored (recorded in the scoring shard's attempt file)
    const { recorded } = await killWhenRecorded(workers[0]!, { store, dataset: 'sp-a/round-1/scored', atLeast: 3 });
    // what the dead worker had recorded: these rollouts must never be scored again
    const beforeCrash = new Set(recorded.map((l) => (JSON.parse(l) as { rows: Array<{ id: string }> }).rows[0]!.id));
    expect(beforeCrash.size).toBeGreaterThanOrEqual(3);
    expect(beforeCrash.size).toBeLessThan(4 * K);
    workers.push(spawnWorker(configFile));
    await workers[1]!.ready;

    const a = (await first.result()) as SelfPlayResult;
    expect(a.stoppedBecause).toBe('rounds');
    expect(a.rounds.map((r) => r.training)).toEqual(['trained', 'trained']);

    // every rollout of round 1 scored exactly once: one row each; those recorded before the crash kept their verdict
    const scored = await datasetRows(store, 'sp-a/round-1/scored');
    const ids = scored.map((r) => r.id as string);
    expect(ids.length).toBe(4 * K);
    expect(new Set(ids).size).toBe(4 * K);
    for (const r of scored) expect(r.scoredBy.attempt === 1).toBe(beforeCrash.has(r.id));
    expect(scored.filter((r) => r.scoredBy.attempt > 1).length).toBe(4 * K - beforeCrash.size);

    // verdicts as scripted
    const passes = (rs: Array<Record<string, any>>, item: string) =>
      rs.filter((r) => r.itemId === item && r.verdict === 'pass').length;
    expect(['code-sum', 'code-max', 'math-vote', 'math-ref'].map((i) => passes(scored, i))).toEqual([2, 8, 3, 0]);
    const scored2 = await datasetRows(store, 'sp-a/round-2/scored');
    expect(['code-sum', 'code-max', 'math-vote', 'math-ref'].map((i) => passes(scored2, i))).toEqual([1, 4, 2, 1]);
    // the tests the writer wrote (4), less the one the majority of the cross-check solutions disagrees with
    expect((await datasetRows(store, 'sp-a/rewarded'))[0]!.tests).toEqual(
      [...SUM_TESTS, WRONG_TEST].map((t) => JSON.parse(t)),
    );
    const rewarded = await datasetRows(store, 'sp-a/cross-checked');
    expect(rewarded.map((r) => r.id)).toEqual(['code-sum', 'code-max', 'math-vote', 'math-ref']);
    expect(rewarded[0]!.tests).toEqual(SUM_TESTS.map((t) => JSON.parse(t)));
    expect(rewarded[0]!.testCheck).toMatchObject({
      programs: 3,
      agree: [0, 1, 2],
      disagree: [3],
      undecided: [],
      majority: { 3: '4\n' },
      dropped: 1,
    });
    expect(rewarded[1]!.testOrigin).toBe('given');
    expect([rewarded[2]!.answer, rewarded[2]!.answerOrigin]).toEqual(['42', 'majority']);

    // the round reports: every prompt kept or dropped by a named rule
    const report = (r: number) =>
      JSON.parse(readFileSync(path.join(config.storage.root, a.rounds[r - 1]!.report), 'utf8')) as RoundReport;
    const r1 = report(1);
    const r2 = report(2);
    console.log(
      `self-play: ${beforeCrash.size} of ${4 * K} rollouts scored before the crash; round 1 report ${JSON.stringify(r1)}`,
    );
    const nonZero = (d: Record<string, number>) => Object.fromEntries(Object.entries(d).filter(([, n]) => n > 0));
    const before = {
      'invalid-record': 2,
      'contamination-exact': 1,
      'math-prompt-pattern': 1,
      'too-few-tests': 1,
      'trivial-answer': 1,
      'no-answer': 1,
    };
    expect(nonZero(r1.dropped)).toEqual({ ...before, 'too-easy': 1, unsolved: 1 });
    expect(nonZero(r2.dropped)).toEqual({ ...before, 'too-easy': 1, 'no-valid-chosen': 1 });
    for (const r of [r1, r2]) {
      expect(r.prompts).toBe(PROMPTS.length);
      expect(r.kept + Object.values(r.dropped).reduce((x, y) => x + y, 0)).toBe(r.prompts);
      expect(r.addsUp).toBe(true);
      expect(r.kept).toBe(2);
    }
    expect(r1.passCountHistogram).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1]);
    expect(r1.rollouts.invalid['mixed-language']).toBe(1);
    expect(r1.rewards).toEqual({
      code: {
        problems: 2,
        withGivenTests: 1,
        withWrittenTests: 1,
        tests: 5,
        crossCheck: { problems: 1, tests: 4, agree: 3, disagree: 1, undecided: 0, dropped: 1 },
      },
      math: { problems: 2, referenceAnswers: 1, majorityAnswers: 1 },
    });
    expect(r2.passCountHistogram).toEqual([0, 2, 1, 0, 1, 0, 0, 0, 0]);

    // the pairs: DPO rows, as many as planned, each chosen a passing rollout and each rejected a failing one
    const pairs1 = await datasetRows(store, a.rounds[0]!.pairs.name);
    const pairs2 = await datasetRows(store, a.rounds[1]!.pairs.name);
    expect([pairs1.length, pairs2.length]).toEqual([r1.pairs, r2.pairs]);
    for (const p of [...pairs1, ...pairs2]) {
      expect(Object.keys(p).sort()).toEqual(['chosen', 'prompt', 'rejected', 'source']);
      expect(p.prompt).toMatch(/^<\|im_start\|>user\n[\s\S]*<\|im_end\|>\n<\|im_start\|>assistant$/);
      expect(p.chosen.startsWith('\n<think>\n')).toBe(true);
      expect(p.chosen).not.toBe(p.rejected);
    }
    const count = (ps: Array<Record<string, any>>, source: string) => ps.filter((p) => p.source === source).length;
    expect([count(pairs1, 'PromptCoT-Code'), count(pairs1, 'PromptCoT-Math')]).toEqual([2, 3]);
    expect([count(pairs2, 'PromptCoT-Code'), count(pairs2, 'PromptCoT-Math')]).toEqual([1, 2]);
    expect(
      pairs1
        .filter((p) => p.source === 'PromptCoT-Code')
        .every((p) => p.chosen.includes('print(a + b)') && p.rejected.includes('print(a - b)')),
    ).toBe(true);

    // the trainer ran once per round, on that round's pairs, and the next round used its policy
    for (const r of [1, 2])
      expect(
        existsSync(
          path.join(tmp.dir, 'training', 'sp-a', `round-${r}`, 'policy', 'output', 'adapter', 'adapter_config.json'),
        ),
      ).toBe(true);
    expect(a.rounds[1]!.policy).toEqual(a.rounds[0]!.trained);
    expect(a.policy).toEqual(a.rounds[1]!.trained);
    expect(a.rounds[0]!.trained!.version).not.toBe('policy-0');

    // the same seed again (another run name, no crash): byte-identical pairs and the same reports
    const second = await env.client.workflow.start('selfPlay', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sp-b-${Date.now()}`,
      args: [input('sp-b')],
    });
    const b = (await second.result()) as SelfPlayResult;
    for (const r of [0, 1]) {
      const bytesA = datasetBytes(store, a.rounds[r]!.pairs.name);
      expect(bytesA.length).toBeGreaterThan(0);
      expect(datasetBytes(store, b.rounds[r]!.pairs.name)).toBe(bytesA);
      const { name: _a, policy: _pa, ...restA } = report(r + 1);
      const {
        name: _b,
        policy: _pb,
        ...restB
      } = JSON.parse(readFileSync(path.join(config.storage.root, b.rounds[r]!.report), 'utf8')) as RoundReport;
      expect(restB).toEqual(restA);
    }
  }, 600_000);

  it('stop ends a run before its next step; skipTraining cancels the running trainer and keeps the policy; stop ends the run during the next training', async () => {
    // a trainer that takes a minute per step: the signals, not the trainer, end each training
    const { config, configFile } = setUp(`spc${Date.now().toString(36)}`, { EXAMPLE_TRAINER_STEP_MS: '60000' });
    const worker = spawnWorker(configFile);
    workers.push(worker);
    await worker.ready;
    const handle = await env.client.workflow.start('selfPlay', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sp-c-${Date.now()}`,
      args: [input('sp-c', 3)],
    });
    const status = () => handle.query<SelfPlayStatus>('status');
    const trainerStarted = (round: number) =>
      existsSync(path.join(tmp.dir, 'training', 'sp-c', `round-${round}`, 'policy'));
    const waitFor = async (what: () => Promise<boolean> | boolean) => {
      const started = Date.now();
      while (!(await what())) {
        if (Date.now() - started > 240_000) throw new Error(`timed out; status ${JSON.stringify(await status())}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // a stop during a step before the rounds: that step finishes, nothing after it starts
    const early = await env.client.workflow.start('selfPlay', {
      taskQueue: config.taskQueues.orchestration,
      workflowId: `sp-d-${Date.now()}`,
      args: [input('sp-d', 1)],
    });
    await waitFor(async () => ['rewards', 'cross-check'].includes((await early.query<SelfPlayStatus>('status')).step));
    await early.signal('stop');
    const stoppedEarly = (await early.result()) as SelfPlayResult;
    expect(stoppedEarly).toEqual({ rounds: [], policy: { version: 'policy-0' }, stoppedBecause: 'stopped' });
    const storeD = new DatasetStore(config.storage.root);
    expect(storeD.exists('sp-d/rewarded')).toBe(true);
    expect(storeD.exists('sp-d/round-1/rollouts')).toBe(false);

    await waitFor(async () => (await status()).step === 'round-1/train' && trainerStarted(1));
    await handle.signal('skipTraining');
    await waitFor(async () => (await status()).step === 'round-2/train' && trainerStarted(2));
    await handle.signal('stop');
    const result = (await handle.result()) as SelfPlayResult;
    // the last run (round 2 after continue-as-new: carried state, a stop signal, a cancelled training) as a replay fixture
    if (process.env.UPDATE_HISTORY_FIXTURES) saveHistoryFixture('selfPlay-stop', env.address, handle.workflowId);
    expect(result.stoppedBecause).toBe('stopped');
    expect(result.rounds.map((r) => r.training)).toEqual(['skipped', 'stopped']);
    // the policy never changed, and round 2 sampled with it
    expect(result.rounds.map((r) => r.policy.version)).toEqual(['policy-0', 'policy-0']);
    expect(result.policy.version).toBe('policy-0');
    // the cancelled trainers wrote no adapter
    for (const r of [1, 2])
      expect(existsSync(path.join(tmp.dir, 'training', 'sp-c', `round-${r}`, 'policy', 'output', 'adapter'))).toBe(
        false,
      );
    // the pairs of both rounds were still built, as in the first run (same seed)
    const store = new DatasetStore(config.storage.root);
    expect(datasetBytes(store, result.rounds[0]!.pairs.name)).toBe(datasetBytes(store, 'sp-a/round-1/pairs'));
  }, 600_000);
});
