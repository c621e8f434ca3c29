// Code rewards against the published Codeforces benchmark (data/benchmarks): model-style completions
// (thinking, then a fenced program) that we wrote — correct ones pass, deliberately wrong ones get the right
// failure verdict — through code extraction, the sandbox and the LiveCodeBench comparison.
import { readCodeBenchmark } from '../../activities/datasets/code-benchmark';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSandboxActivities, type EvaluateCodeResult } from '../../activities/sandbox/activities';
import { extractCode } from '../../activities/sandbox/extract-code';
import { ConfigSchema } from '../../domain/platform/config';
import { DEFAULT_LIMITS, runPython } from '../../activities/sandbox/python-sandbox';
import { shutdownInterpreterPool } from '../../activities/sandbox/interpreter-pool';
import { shutdownJsSandbox } from '../../activities/sandbox/js-sandbox';

afterAll(async () => {
  shutdownInterpreterPool();
  await shutdownJsSandbox();
});

const BENCHMARK = benchmarkFile('codeforces');

const loadProblems = () => readCodeBenchmark(BENCHMARK);

function completion(program: string): string {
  return `<think>\nLet me think about the constraints...\n\`\`\`python\nprint("a draft inside the thinking")\n\`\`\`\n</think>\nHere is my solution.\n\`\`\`python\n${program.trim()}\n\`\`\`\n`;
}

const TIMUR = `import sys, bisect
def main():
    data=sys.stdin.buffer.read().split(); p=0
    t=int(data[p]); p+=1
    out=[]
    for _ in range(t):
        n,k,q=int(data[p]),int(data[p+1]),int(data[p+2]); p+=3
        a=[0]+[int(x) for x in data[p:p+k]]; p+=k
        b=[0]+[int(x) for x in data[p:p+k]]; p+=k
        res=[]
        for _ in range(q):
            d=int(data[p]); p+=1
            i=bisect.bisect_left(a,d)
            res.append(b[i] if a[i]==d else b[i-1]+(d-a[i-1])*(b[i]-b[i-1])//(a[i]-a[i-1]))
        out.append(' '.join(map(str,res)))
    print('\\n'.join(out))
main()`;

const SOLUTIONS: Array<{
  problem: number;
  statementHas: string;
  correct: string;
  wrong: string;
  wrongVerdict: string;
}> = [
  {
    problem: 0,
    statementHas: 'the minimum of $x$ and $y$, followed by the maximum',
    correct: 't=int(input())\nfor _ in range(t):\n    x,y=map(int,input().split())\n    print(min(x,y),max(x,y))',
    wrong: 't=int(input())\nfor _ in range(t):\n    x,y=map(int,input().split())\n    print(x,y)',
    wrongVerdict: 'wrong_answer',
  },
  {
    problem: 2,
    statementHas: 'Do the strings intersect?',
    correct:
      't=int(input())\nfor _ in range(t):\n    a,b,c,d=map(int,input().split())\n    if a>b: a,b=b,a\n    inside=lambda x: a<x<b\n    print("YES" if inside(c)!=inside(d) else "NO")',
    wrong: 't=int(input())\nfor _ in range(t):\n    input()\n    print("NO")',
    wrongVerdict: 'wrong_answer',
  },
  {
    problem: 3,
    statementHas: 'minimum number of pieces you need to cut it into',
    correct:
      "t=int(input())\nfor _ in range(t):\n    s=input().strip()\n    changes=sum(1 for i in range(len(s)-1) if s[i]!=s[i+1])\n    print(changes+1-(1 if '01' in s else 0))",
    wrong: 't=int(input())\nfor _ in range(t):\n    s=input().strip()\n    print(s[len(s)])',
    wrongVerdict: 'runtime_error',
  },
  {
    problem: 4,
    statementHas: 'Timur is in a car',
    correct: TIMUR,
    // Rounds instead of flooring: 4 + 1.5 becomes 6 where the answer is 5.
    wrong: TIMUR.replace(
      'b[i-1]+(d-a[i-1])*(b[i]-b[i-1])//(a[i]-a[i-1])',
      'round(b[i-1]+(d-a[i-1])*(b[i]-b[i-1])/(a[i]-a[i-1]))',
    ),
    wrongVerdict: 'wrong_answer',
  },
  {
    problem: 5,
    statementHas: 'number of lattice points',
    correct:
      'import math\ndef f(R):\n    return sum(2*math.isqrt(R*R-1-x*x)+1 for x in range(-(R-1),R))\nt=int(input())\nfor _ in range(t):\n    r=int(input())\n    print(f(r+1)-f(r))',
    wrong: 'while True:\n    pass',
    wrongVerdict: 'time_limit',
  },
  {
    problem: 6,
    statementHas: 'XOR',
    correct: `import sys
from collections import defaultdict
data=sys.stdin.buffer.read().split(); p=0; t=int(data[p]); p+=1; out=[]
for _ in range(t):
    n=int(data[p]); p+=1; a=list(map(int,data[p:p+n])); p+=n
    g=defaultdict(list)
    for v in a: g[v>>2].append(v)
    for k in g: g[k].sort(reverse=True)
    out.append(' '.join(str(g[v>>2].pop()) for v in a))
print('\\n'.join(out))`,
    wrong:
      'import sys\ndata=sys.stdin.read().split(); p=1\nfor _ in range(int(data[0])):\n    n=int(data[p]); a=sorted(map(int,data[p+1:p+1+n])); p+=1+n\n    print(*a)',
    wrongVerdict: 'wrong_answer',
  },
];

describe('code rewards on the Codeforces benchmark', () => {
  const problems = loadProblems();
  const limits = { ...DEFAULT_LIMITS, cpuTimeMs: 3000, wallTimeMs: 6000 };

  it('reads all 408 problems with their tests', () => {
    expect(problems).toHaveLength(408);
    expect(problems.every((p) => p.tests.length > 0)).toBe(true);
  });

  for (const s of SOLUTIONS) {
    it(`problem ${s.problem}: a correct solution passes, a wrong one gets ${s.wrongVerdict}`, async () => {
      const problem = problems[s.problem]!;
      expect(problem.prompt).toContain(s.statementHas);
      const good = extractCode(completion(s.correct));
      expect(good).toBe(s.correct.trim());
      const pass = await runPython(good!, problem.tests, limits);
      expect(pass.verdicts.map((v) => v.verdict)).toEqual(problem.tests.map(() => 'pass'));
      const fail = await runPython(extractCode(completion(s.wrong))!, problem.tests, limits);
      expect(fail.verdicts[0]!.verdict).toBe(s.wrongVerdict);
    });
  }
});

describe('evaluateCode activity', () => {
  const activities = createSandboxActivities(ConfigSchema.shape.sandbox.parse({}));
  const env = new MockActivityEnvironment();
  const tests = [
    { input: '2\n1 9\n8 4\n', output: '1 9\n4 8' },
    { input: '1\n3 3\n', output: '3 3' },
  ];

  it('gives reward 1 only when every test passes, with per-test verdicts', async () => {
    const good = await env.run(activities.evaluateCode, { completion: completion(SOLUTIONS[0]!.correct), tests });
    expect(good).toMatchObject({ reward: 1, passed: 2, total: 2 });
    const bad: EvaluateCodeResult = await env.run(activities.evaluateCode, {
      completion: completion('print("3 3")'),
      tests,
    });
    expect(bad).toMatchObject({ reward: 0, passed: 1, total: 2 });
    expect(bad.verdicts.map((v) => v.verdict)).toEqual(['wrong_answer', 'pass']);
  });

  it('JavaScript solutions run in isolated-vm', async () => {
    const js =
      "const l = require('fs').readFileSync(0, 'utf8').trim().split('\\n');\nfor (const r of l.slice(1)) { const [x, y] = r.split(' ').map(Number); console.log(Math.min(x, y), Math.max(x, y)); }";
    const jsCompletion = `<think>plan</think>\n\`\`\`javascript\n${js}\n\`\`\``;
    expect(
      await env.run(activities.evaluateCode, { completion: jsCompletion, tests, language: 'javascript' as const }),
    ).toMatchObject({ reward: 1, passed: 2 });
    const wrong: EvaluateCodeResult = await env.run(activities.evaluateCode, {
      code: "console.log('3 3')",
      tests,
      language: 'javascript' as const,
    });
    expect(wrong.verdicts.map((v) => v.verdict)).toEqual(['wrong_answer', 'pass']);
  });

  it('a custom checker accepts any valid output (several answers are right) and a broken one is refused', async () => {
    // "print two indices i < j with a[i] + a[j] = s": the expected output is one valid pair among several
    const pairTests = [{ input: '5 7\n1 6 3 4 2\n', output: '0 1' }];
    const program =
      'n, s = map(int, input().split())\na = list(map(int, input().split()))\nprint(*[(i, j) for i in range(n) for j in range(i + 1, n) if a[i] + a[j] == s][-1])';
    const checker = [
      'function check(input, expected, actual) {',
      "  const [head, row] = input.trim().split('\\n');",
      "  const s = Number(head.split(' ')[1]); const a = row.split(' ').map(Number);",
      '  const [i, j] = actual.trim().split(/\\s+/).map(Number);',
      '  if (!(i < j) || a[i] + a[j] !== s) return { ok: false, reason: `a[${i}] + a[${j}] is not ${s}` };',
      '  return true;',
      '}',
    ].join('\n');
    const plain: EvaluateCodeResult = await env.run(activities.evaluateCode, { code: program, tests: pairTests });
    expect(plain.verdicts[0]!.verdict).toBe('wrong_answer'); // it printed "2 3", another valid pair
    expect(await env.run(activities.evaluateCode, { code: program, tests: pairTests, checker })).toMatchObject({
      reward: 1,
    });
    const bad: EvaluateCodeResult = await env.run(activities.evaluateCode, {
      code: 'print(0, 2)',
      tests: pairTests,
      checker,
    });
    expect(bad.verdicts[0]).toMatchObject({ verdict: 'wrong_answer', detail: 'a[0] + a[2] is not 7' });
    await expect(
      env.run(activities.evaluateCode, { code: program, tests: pairTests, checker: 'function check( {' }),
    ).rejects.toThrow(/checker/);
  });

  it('scores a completion without a program 0, and refuses an empty test list', async () => {
    expect(await env.run(activities.evaluateCode, { completion: 'I think the answer is 42.', tests })).toEqual({
      reward: 0,
      passed: 0,
      total: 2,
      verdicts: [],
      noCode: true,
    });
    await expect(env.run(activities.evaluateCode, { code: 'print(1)', tests: [] })).rejects.toThrow(
      'at least one test',
    );
  });
});

describe('call-based problems (starter code with a function name)', () => {
  const tests = [
    { input: '[2, 7, 11, 15]\n9', output: '[0, 1]' },
    { input: '[3, 2, 4]\n6', output: '[1, 2]' },
  ];
  const solution =
    'class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return (seen[target - x], i)\n            seen[x] = i';

  it('calls Solution().fn(*json args) and compares the JSON result, tuples as lists', async () => {
    const ok = await runPython(solution, tests, DEFAULT_LIMITS, { fnName: 'twoSum' });
    expect(ok.verdicts.map((v) => v.verdict)).toEqual(['pass', 'pass']);
    const wrong = await runPython(
      solution.replace('(seen[target - x], i)', '(i, seen[target - x])'),
      tests,
      DEFAULT_LIMITS,
      { fnName: 'twoSum' },
    );
    expect(wrong.verdicts.map((v) => v.verdict)).toEqual(['wrong_answer', 'wrong_answer']);
    expect(wrong.verdicts[0]!.detail).toBe('expected [0,1] got [1,0]');
    const plainFunction = await runPython(
      'def twoSum(nums, target):\n    return [nums.index(x) for x in nums if target - x in nums][:2]',
      tests.slice(0, 1),
      DEFAULT_LIMITS,
      { fnName: 'twoSum' },
    );
    expect(plainFunction.verdicts[0]!.verdict).toBe('pass');
  });

  it('refuses a function name that is not an identifier', async () => {
    await expect(runPython(solution, tests, DEFAULT_LIMITS, { fnName: 'x); import os; (' })).rejects.toThrow(
      'fnName: not a Python identifier',
    );
  });
});
