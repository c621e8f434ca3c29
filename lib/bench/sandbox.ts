// Benchmark of the Python code sandbox: `npm run bench -- sandbox [--reps 2] [--tests 16] [--seed 7]`.
//
// Workload: four problems of the Codeforces benchmark file (data/benchmarks; problems 0, 3, 5, 6), each
// with its published test plus `--tests` generated ones whose expected outputs come from reference solutions
// written here in TypeScript; per problem a correct and a wrong Python program (wrong answer or runtime error),
// plus one program that does not compile; repeated `--reps` times. Every program reads stdin through input() or
// sys.stdin.read(), the subset both harnesses support.
//
// The same programs and tests run, in one process, through:
//   - ours (fork mode): pre-started interpreters forking per test, all cores busy (the pool is pre-started first,
//     as a worker does when it starts; that time is reported apart);
//   - ours (fresh mode): a new bubblewrap sandbox and interpreter per test;
//   - the published method (scripts/published-harness.py): a fresh Manager + Process per test, sequentially, and
//     again with one thread per core driving it.
// Printed: executions/s of each, the ratios, verdict counts and whether all verdicts are identical. A separate
// time-limit check (an infinite loop, 2 tests) compares verdicts only, since its time is the limit itself.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../../domain/core/random';
import { readCodeBenchmark } from '../../activities/datasets/code-benchmark';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import { interpreterPool, shutdownInterpreterPool } from '../../activities/sandbox/interpreter-pool';
import { DEFAULT_LIMITS, runPython, type SandboxMode } from '../../activities/sandbox/python-sandbox';
import type { SandboxLimits, TestCase, Verdict } from '../../activities/sandbox/types';

const BENCHMARK = benchmarkFile('codeforces');
const HARNESS = path.join(__dirname, '..', '..', 'scripts', 'published-harness.py');
const TIME_LIMIT_S = 2;

interface Program {
  name: string;
  code: string;
  tests: TestCase[];
}

type Rand = () => number;
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

function isqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while ((r + 1) * (r + 1) <= n) r++;
  return r;
}

/** Generated tests for one problem: t cases, the input text and the expected output from a reference solution. */
interface ProblemSpec {
  index: number;
  cases: (rand: Rand) => { input: string; output: string };
  correct: string;
  wrong: string;
}

function multiCase<T>(
  rand: Rand,
  maxT: number,
  make: (rand: Rand) => T,
  show: (c: T) => string,
  solve: (c: T) => string,
) {
  const cases = Array.from({ length: int(rand, 1, maxT) }, () => make(rand));
  return { input: `${cases.length}\n${cases.map(show).join('\n')}\n`, output: cases.map(solve).join('\n') };
}

const lattice = (r: number) => {
  const f = (R: number) => {
    let s = 0;
    for (let x = -(R - 1); x < R; x++) s += 2 * isqrt(R * R - 1 - x * x) + 1;
    return s;
  };
  return f(r + 1) - f(r);
};

const PROBLEMS: ProblemSpec[] = [
  {
    index: 0,
    cases: (rand) =>
      multiCase(
        rand,
        10,
        (r) => [int(r, 0, 9), int(r, 0, 9)] as const,
        ([x, y]) => `${x} ${y}`,
        ([x, y]) => `${Math.min(x, y)} ${Math.max(x, y)}`,
      ),
    correct: 't=int(input())\nfor _ in range(t):\n    x,y=map(int,input().split())\n    print(min(x,y),max(x,y))',
    wrong: 't=int(input())\nfor _ in range(t):\n    x,y=map(int,input().split())\n    print(x,y)',
  },
  {
    index: 3,
    cases: (rand) =>
      multiCase(
        rand,
        5,
        (r) => Array.from({ length: int(r, 1, 20) }, () => (r() < 0.5 ? '0' : '1')).join(''),
        (s) => s,
        (s) => {
          let changes = 0;
          for (let i = 0; i + 1 < s.length; i++) if (s[i] !== s[i + 1]) changes++;
          return String(changes + 1 - (s.includes('01') ? 1 : 0));
        },
      ),
    correct:
      "t=int(input())\nfor _ in range(t):\n    s=input().strip()\n    changes=sum(1 for i in range(len(s)-1) if s[i]!=s[i+1])\n    print(changes+1-(1 if '01' in s else 0))",
    wrong: 't=int(input())\nfor _ in range(t):\n    s=input().strip()\n    print(s[len(s)])',
  },
  {
    index: 5,
    cases: (rand) =>
      multiCase(
        rand,
        5,
        (r) => int(r, 1, 2000),
        String,
        (r) => String(lattice(r)),
      ),
    correct:
      'import math\ndef f(R):\n    return sum(2*math.isqrt(R*R-1-x*x)+1 for x in range(-(R-1),R))\nt=int(input())\nfor _ in range(t):\n    r=int(input())\n    print(f(r+1)-f(r))',
    wrong:
      'import math\ndef f(R):\n    return sum(2*math.isqrt(R*R-x*x)+1 for x in range(-R,R+1))\nt=int(input())\nfor _ in range(t):\n    r=int(input())\n    print(f(r+1)-f(r))',
  },
  {
    index: 6,
    cases: (rand) =>
      multiCase(
        rand,
        3,
        (r) => Array.from({ length: int(r, 1, 10) }, () => int(r, 0, 15)),
        (a) => `${a.length}\n${a.join(' ')}`,
        (a) => {
          const groups = new Map<number, number[]>();
          for (const v of a) groups.set(v >> 2, [...(groups.get(v >> 2) ?? []), v]);
          for (const g of groups.values()) g.sort((x, y) => y - x);
          return a.map((v) => groups.get(v >> 2)!.pop()).join(' ');
        },
      ),
    correct:
      "import sys\nfrom collections import defaultdict\ndata=sys.stdin.read().split(); p=0; t=int(data[p]); p+=1; out=[]\nfor _ in range(t):\n    n=int(data[p]); p+=1; a=list(map(int,data[p:p+n])); p+=n\n    g=defaultdict(list)\n    for v in a: g[v>>2].append(v)\n    for k in g: g[k].sort(reverse=True)\n    out.append(' '.join(str(g[v>>2].pop()) for v in a))\nprint('\\n'.join(out))",
    wrong:
      'import sys\ndata=sys.stdin.read().split(); p=1\nfor _ in range(int(data[0])):\n    n=int(data[p]); a=sorted(map(int,data[p+1:p+1+n])); p+=1+n\n    print(*a)',
  },
];

function publishedTests(): TestCase[][] {
  return readCodeBenchmark(BENCHMARK).map((p) => p.tests);
}

function workload(testsPerProblem: number, reps: number, seed: number): Program[] {
  const published = publishedTests();
  const rand = mulberry32(seed);
  const programs: Program[] = [];
  for (const p of PROBLEMS) {
    const tests = [...published[p.index]!, ...Array.from({ length: testsPerProblem }, () => p.cases(rand))];
    programs.push(
      { name: `cf${p.index}-correct`, code: p.correct, tests },
      { name: `cf${p.index}-wrong`, code: p.wrong, tests },
    );
  }
  programs.push({ name: 'syntax-error', code: 'def f(:\n    pass', tests: programs[0]!.tests });
  return Array.from({ length: reps }, () => programs).flat();
}

async function mapLimit<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

async function runOurs(
  programs: Program[],
  limits: SandboxLimits,
  mode: SandboxMode,
  cores: number,
): Promise<{ seconds: number; verdicts: Verdict[] }> {
  const t0 = process.hrtime.bigint();
  // as on a worker: `cores` programs (activities) at a time
  const results = await mapLimit(programs, cores, (p) =>
    runPython(p.code, p.tests, { ...limits, parallelism: cores }, { mode }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, verdicts: results.flatMap((r) => r.verdicts.map((v) => v.verdict)) };
}

function runPublished(programs: Program[], workers: number): Promise<{ seconds: number; verdicts: Verdict[] }> {
  const jobs = programs.flatMap((p) => p.tests.map((t) => ({ code: p.code, input: t.input, output: t.output })));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.env.PROMPTCOT_SANDBOX_PYTHON ?? 'python3', [HARNESS], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`published harness exited ${code}`));
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, verdicts: JSON.parse(out) as Verdict[] });
    });
    child.stdin.end(JSON.stringify({ timeoutSec: TIME_LIMIT_S, workers, jobs }));
  });
}

function counts(verdicts: Verdict[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const v of verdicts) c[v] = (c[v] ?? 0) + 1;
  return c;
}

const rate = (n: number, s: number) => Math.round((n / s) * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export async function benchSandbox(): Promise<Record<string, unknown>> {
  const reps = argValue('reps', 2);
  const testsPerProblem = argValue('tests', 16);
  const seed = argValue('seed', 7);
  const cores = os.availableParallelism();
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, cpuTimeMs: TIME_LIMIT_S * 1000, wallTimeMs: TIME_LIMIT_S * 2000 };
  const programs = workload(testsPerProblem, reps, seed);
  const executions = programs.reduce((n, p) => n + p.tests.length, 0);

  const t0 = process.hrtime.bigint();
  await interpreterPool(cores).prestart();
  const prestartSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // warm-up (page cache, python imports) for every runner alike
  await runOurs(programs.slice(0, 1), limits, 'fork', cores);
  await runOurs(programs.slice(0, 1), limits, 'fresh', cores);
  await runPublished(programs.slice(0, 1), 1);

  const published = await runPublished(programs, 1);
  const publishedParallel = await runPublished(programs, cores);
  const fresh = await runOurs(programs, limits, 'fresh', cores);
  const fork = await runOurs(programs, limits, 'fork', cores);

  const mismatches: Array<{
    execution: number;
    published: string;
    fork: string;
    fresh: string;
    publishedParallel: string;
  }> = [];
  for (let i = 0; i < executions; i++) {
    const row = {
      published: published.verdicts[i]!,
      fork: fork.verdicts[i]!,
      fresh: fresh.verdicts[i]!,
      publishedParallel: publishedParallel.verdicts[i]!,
    };
    if (new Set(Object.values(row)).size > 1) mismatches.push({ execution: i, ...row });
  }

  const loop: Program = { name: 'infinite-loop', code: 'while True:\n    pass', tests: programs[0]!.tests.slice(0, 2) };
  const [loopFork, loopPublished] = [await runOurs([loop], limits, 'fork', cores), await runPublished([loop], 1)];
  shutdownInterpreterPool();

  const forkRate = rate(executions, fork.seconds);
  return {
    cores,
    workload: { programs: programs.length, executions, testsPerProblem, reps, seed, timeLimitSeconds: TIME_LIMIT_S },
    ours: {
      mode: 'fork',
      seconds: round3(fork.seconds),
      executionsPerSecond: forkRate,
      poolPrestartSeconds: round3(prestartSeconds),
    },
    oursFresh: { mode: 'fresh', seconds: round3(fresh.seconds), executionsPerSecond: rate(executions, fresh.seconds) },
    published: {
      workers: 1,
      seconds: round3(published.seconds),
      executionsPerSecond: rate(executions, published.seconds),
    },
    publishedParallel: {
      workers: cores,
      seconds: round3(publishedParallel.seconds),
      executionsPerSecond: rate(executions, publishedParallel.seconds),
    },
    ratio: round3(forkRate / rate(executions, published.seconds)),
    ratioVsPublishedParallel: round3(forkRate / rate(executions, publishedParallel.seconds)),
    ratioForkVsFresh: round3(forkRate / rate(executions, fresh.seconds)),
    verdicts: counts(fork.verdicts),
    verdictsIdentical: mismatches.length === 0,
    mismatches: mismatches.slice(0, 10),
    timeLimitCheck: {
      ours: loopFork.verdicts,
      published: loopPublished.verdicts,
      identical: loopFork.verdicts.join() === loopPublished.verdicts.join(),
    },
  };
}
