// The JavaScript sandbox (isolated-vm isolates inside killable host processes): correct and wrong solutions to
// published Codeforces problems in the usual stdin styles, a hostile suite (each attack contained with the
// right verdict while the jest process and the pool stay healthy), custom output checkers, and the lifecycle
// of the host processes.
import { spawn } from 'node:child_process';
import { readCodeBenchmark } from '../../activities/datasets/code-benchmark';
import { benchmarkFile } from '../../activities/eval/benchmark-files';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CheckerError,
  DEFAULT_LIMITS,
  jsSandboxHostPids,
  runChecker,
  runJavaScript,
  shutdownJsSandbox,
  type SandboxLimits,
  type TestCase,
} from '../../activities/sandbox/js-sandbox';

const BENCHMARK = benchmarkFile('codeforces');
const SANDBOX_MODULE = path.join(__dirname, '..', '..', 'activities', 'sandbox', 'js-sandbox.ts');
const SECRET_NAME = 'PROMPTCOT_JS_SANDBOX_TEST_SECRET';
const SECRET = `s3cr3t-${process.pid}-${Date.now()}`;

const L: SandboxLimits = {
  ...DEFAULT_LIMITS,
  wallTimeMs: 4000,
  cpuTimeMs: 2000,
  memoryMb: 128,
  maxOutputBytes: 1 << 20,
  parallelism: 2,
};

const loadProblems = () => readCodeBenchmark(BENCHMARK);

async function one(code: string, input = '', output = '', limits: SandboxLimits = L) {
  return (await runJavaScript(code, [{ input, output }], limits)).verdicts[0]!;
}

/** Alive = present in /proc and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

beforeAll(async () => {
  // A secret in the worker's environment: it must never reach a host or a program.
  process.env[SECRET_NAME] = SECRET;
  await shutdownJsSandbox();
});

afterAll(async () => {
  delete process.env[SECRET_NAME];
  await shutdownJsSandbox();
});

describe('benchmark problems in three stdin styles', () => {
  const problems = loadProblems();

  it('problem 0 (min and max) with fs.readFileSync(0)', async () => {
    const p = problems[0]!;
    expect(p.prompt).toContain('the minimum of $x$ and $y$, followed by the maximum');
    const extra: TestCase[] = [
      [5, 2],
      [0, 0],
      [9, 1],
      [3, 7],
    ].map(([x, y]) => ({
      input: `1\n${x} ${y}\n`,
      output: `${Math.min(x!, y!)} ${Math.max(x!, y!)}`,
    }));
    const tests = [...p.tests, ...extra];
    const correct = `const data = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
let p = 0;
const t = data[p++];
const out = [];
for (let i = 0; i < t; i++) {
  const x = data[p++], y = data[p++];
  out.push(Math.min(x, y) + ' ' + Math.max(x, y));
}
process.stdout.write(out.join('\\n') + '\\n');`;
    const wrong = correct.replace("Math.min(x, y) + ' ' + Math.max(x, y)", "x + ' ' + y");
    expect((await runJavaScript(correct, tests, L)).verdicts.map((v) => v.verdict)).toEqual(tests.map(() => 'pass'));
    const w = await runJavaScript(wrong, tests, L);
    expect(w.verdicts[0]).toMatchObject({ verdict: 'wrong_answer', detail: 'line 2: expected "4 8" got "8 4"' });
    expect(w.verdicts[1]!.verdict).toBe('wrong_answer'); // 5 2
    expect(w.verdicts[2]!.verdict).toBe('pass'); // 0 0: the wrong program happens to be right
  });

  it('problem 3 (binary string cutting) with process.stdin events', async () => {
    const p = problems[3]!;
    expect(p.prompt).toContain('minimum number of pieces you need to cut it into');
    const correct = `let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { data += chunk; });
process.stdin.on('end', () => {
  const lines = data.split('\\n');
  const t = parseInt(lines[0], 10);
  const out = [];
  for (let i = 1; i <= t; i++) {
    const s = lines[i].trim();
    let changes = 0;
    for (let j = 0; j + 1 < s.length; j++) if (s[j] !== s[j + 1]) changes++;
    out.push(changes + 1 - (s.includes('01') ? 1 : 0));
  }
  console.log(out.join('\\n'));
});
process.stdin.resume();`;
    const wrong = correct.replace("changes + 1 - (s.includes('01') ? 1 : 0)", 'changes + 1');
    expect((await runJavaScript(correct, p.tests, L)).verdicts).toEqual([expect.objectContaining({ verdict: 'pass' })]);
    const w = (await runJavaScript(wrong, p.tests, L)).verdicts[0]!;
    expect(w).toMatchObject({ verdict: 'wrong_answer', detail: 'line 1: expected "3" got "4"' });
    // Without an encoding the chunks are Buffers; `data += chunk` still works through toString().
    const buffers = correct.replace("process.stdin.setEncoding('utf8');", '');
    expect((await runJavaScript(buffers, p.tests, L)).verdicts[0]!.verdict).toBe('pass');
  });

  it('problem 2 (clock strings) with readline, by events and by for await', async () => {
    const p = problems[2]!;
    expect(p.prompt).toContain('Do the strings intersect?');
    const byEvents = `const rl = require('readline').createInterface({ input: process.stdin });
const lines = [];
rl.on('line', (line) => lines.push(line)).on('close', () => {
  const t = Number(lines[0]);
  for (let i = 1; i <= t; i++) {
    let [a, b, c, d] = lines[i].split(' ').map(Number);
    if (a > b) [a, b] = [b, a];
    const inside = (x) => a < x && x < b;
    console.log(inside(c) !== inside(d) ? 'YES' : 'NO');
  }
});`;
    const byForAwait = `const readline = require('node:readline');
async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let t = -1;
  const out = [];
  for await (const line of rl) {
    if (t < 0) { t = Number(line); continue; }
    let [a, b, c, d] = line.split(' ').map(Number);
    if (a > b) [a, b] = [b, a];
    const inside = (x) => a < x && x < b;
    out.push(inside(c) !== inside(d) ? 'YES' : 'NO');
  }
  console.log(out.join('\\n'));
}
main();`;
    const wrong = byEvents.replace("inside(c) !== inside(d) ? 'YES' : 'NO'", "'NO'");
    expect((await runJavaScript(byEvents, p.tests, L)).verdicts[0]!.verdict).toBe('pass');
    expect((await runJavaScript(byForAwait, p.tests, L)).verdicts[0]!.verdict).toBe('pass');
    expect((await runJavaScript(wrong, p.tests, L)).verdicts[0]).toMatchObject({
      verdict: 'wrong_answer',
      detail: 'line 1: expected "YES" got "NO"',
    });
  });

  it('a syntax error is compile_error for every test', async () => {
    const tests = loadProblems()[0]!.tests.concat([
      { input: '1\n1 2', output: '1 2' },
      { input: '1\n3 2', output: '2 3' },
    ]);
    const r = await runJavaScript('const x = ;\nconsole.log(x)', tests, L);
    expect(r.verdicts).toHaveLength(3);
    for (const v of r.verdicts) {
      expect(v.verdict).toBe('compile_error');
      expect(v.detail).toMatch(/SyntaxError: Unexpected token ';' \[\/box\/main\.js:1:11\]/);
    }
  });
});

describe('the shim behaves like Node for common program shapes', () => {
  it('Buffer stdin, readSync, the event loop order and process.exitCode', async () => {
    expect(
      await one(
        "const b = require('fs').readFileSync('/dev/stdin'); console.log(b.length, b[0], (b + '').trim())",
        'hé\n',
        '4 104 hé',
      ),
    ).toMatchObject({ verdict: 'pass' });
    const order = `setTimeout(() => console.log('timeout'), 5);
setImmediate(() => console.log('immediate'));
Promise.resolve().then(() => console.log('promise'));
process.nextTick(() => console.log('tick'));
console.log('main');`;
    expect(await one(order, '', 'main\ntick\npromise\nimmediate\ntimeout')).toMatchObject({ verdict: 'pass' });
    expect(await one("process.exitCode = 4; console.log('x')", '', 'x')).toMatchObject({
      verdict: 'runtime_error',
      detail: 'exit code 4',
    });
    const inspect = "console.log([1, 'a', { b: 2 }], new Map([[1, 2]]), 5n, -0, null, undefined, '%d!', 7)";
    expect(await one(inspect, '', "[ 1, 'a', { b: 2 } ] Map(1) { 1 => 2 } 5n -0 null undefined %d! 7")).toMatchObject({
      verdict: 'pass',
    });
    expect(
      await one(
        'console.log(module.exports === this, require.main === module, process.argv.length)',
        '',
        'true true 2',
      ),
    ).toMatchObject({ verdict: 'pass' });
  });

  it('an uncaught exception is runtime_error with the stack as stderr', async () => {
    const v = await one('function f(o) { return o.x; }\nf(null);');
    expect(v.verdict).toBe('runtime_error');
    expect(v.detail).toMatch(/^exit code 1 \(TypeError: Cannot read properties of null/);
    expect(v.stderr).toMatch(/at f \(\/box\/main\.js:1:\d+\)/);
    const t = await one("setTimeout(() => { throw new RangeError('late'); }, 10); console.log('early')", '', 'early');
    expect(t).toMatchObject({ verdict: 'runtime_error', detail: 'exit code 1 (RangeError: late)' });
  });
});

describe('hostile programs are contained', () => {
  // Memory bombs get a small heap and a generous clock, so that they reach the limit well before the time limit.
  const M: SandboxLimits = { ...L, memoryMb: 64, cpuTimeMs: 5000, wallTimeMs: 6000 };
  const cases: Array<{
    name: string;
    code: string;
    verdict: string;
    detail?: RegExp;
    stderr?: RegExp;
    limits?: SandboxLimits;
  }> = [
    { name: 'infinite loop', code: 'while (true) {}', verdict: 'time_limit' },
    {
      name: 'array memory bomb',
      code: 'const a = []; while (true) a.push(new Array(1000).fill(1));',
      verdict: 'memory_limit',
      limits: M,
    },
    {
      name: 'Map growth bomb',
      code: 'const m = new Map(); let i = 0; while (true) m.set(i, i++);',
      verdict: 'memory_limit',
      limits: M,
    },
    {
      name: 'Set growth bomb',
      code: 'const s = new Set(); let i = 0; while (true) s.add(i++);',
      verdict: 'memory_limit',
      limits: M,
    },
    { name: 'string doubling', code: "let s = 'ab'; while (true) s = s + s;", verdict: 'memory_limit', limits: M },
    {
      name: 'process.binding',
      code: "process.binding('spawn_sync')",
      verdict: 'runtime_error',
      stderr: /process\.binding is not a function/,
    },
    {
      name: "require('child_process')",
      code: "require('child_process').execSync('id')",
      verdict: 'runtime_error',
      stderr: /module not available in the sandbox: child_process/,
    },
    {
      name: "globalThis.constructor.constructor('return process')()",
      code: "const p = globalThis.constructor.constructor('return process')(); p.binding('fs');",
      verdict: 'runtime_error',
      stderr: /p\.binding is not a function/,
    },
    {
      name: 'this.constructor.constructor',
      code: "const g = this.constructor.constructor('return this')(); g.process.mainModule.require('child_process');",
      verdict: 'runtime_error',
      stderr: /Cannot read properties of undefined \(reading 'require'\)/,
    },
    {
      name: 'deep recursion',
      code: 'function f(n) { return f(n + 1) + 1; }\nf(0);',
      verdict: 'runtime_error',
      stderr: /Maximum call stack size exceeded/,
    },
    {
      name: 'huge output',
      code: "const line = 'x'.repeat(1000); while (true) console.log(line);",
      verdict: 'runtime_error',
      detail: /^output limit$/,
    },
    {
      name: 'a loop in a pending setTimeout chain',
      code: 'function tick() { setTimeout(tick, 0); }\ntick();',
      verdict: 'time_limit',
    },
    { name: 'a busy timer callback', code: 'setTimeout(() => { for (;;) {} }, 1000);', verdict: 'time_limit' },
    {
      name: 'process.exit(3)',
      code: "console.log('partial'); process.exit(3); console.log('never');",
      verdict: 'runtime_error',
      detail: /^exit code 3$/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.verdict}`, async () => {
      const v = await one(c.code, '', '', c.limits);
      // a wrong verdict shows what the sandbox said about it
      expect(v.verdict === c.verdict ? { verdict: v.verdict } : v).toEqual({ verdict: c.verdict });
      if (c.detail) expect(v.detail).toMatch(c.detail);
      if (c.stderr) expect(v.stderr).toMatch(c.stderr);
      expect(JSON.stringify(v)).not.toContain(SECRET);
    });
  }

  it('the environment is empty and the worker secret is unreachable, even in the host process', async () => {
    const probes = [
      'console.log(JSON.stringify(process.env))',
      "console.log(JSON.stringify(globalThis.constructor.constructor('return process')().env))",
      "console.log(JSON.stringify(this.constructor.constructor('return this')().process.env))",
    ];
    for (const code of probes) expect(await one(code, '', '{}')).toMatchObject({ verdict: 'pass' });
    expect(await one(`console.log(process.env.${SECRET_NAME} === undefined)`, '', 'true')).toMatchObject({
      verdict: 'pass',
    });
    // Stack-frame tricks see only isolate functions: nothing with a real process or require.
    const frames = `Error.prepareStackTrace = (e, frames) => frames.map((f) => { const t = f.getThis(); const fn = f.getFunction(); return [t && typeof t.require, fn && typeof fn.caller]; });
let seen;
try { process.stdout.write({}); } catch (e) { seen = e.stack; }
console.log(JSON.stringify(seen).includes('function') ? 'leak' : 'contained');`;
    expect(await one(frames, '', 'contained')).toMatchObject({ verdict: 'pass' });
    const pids = jsSandboxHostPids();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toContain(SECRET);
      // Node adds NODE_CHANNEL_* for the IPC channel; nothing else of the worker's environment is there.
      const vars = environ.split('\0').filter((v) => v !== '' && !v.startsWith('NODE_CHANNEL_'));
      expect(vars.sort()).toEqual(['LANG=C.UTF-8', 'PATH=/usr/local/bin:/usr/bin:/bin']);
    }
  });

  it('the jest process is unharmed and the pool still works after the hostile suite', async () => {
    const r = await runJavaScript(
      "console.log(require('fs').readFileSync(0, 'utf8').trim().split(' ').reduce((a, b) => a + Number(b), 0))",
      [
        { input: '1 2 3', output: '6' },
        { input: '10 20', output: '30' },
        { input: '5', output: '5' },
      ],
      L,
    );
    expect(r.verdicts.map((v) => v.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(jsSandboxHostPids().length).toBeLessThanOrEqual(2);
  });
});

describe('custom output checkers', () => {
  // "Print any two indices i < j (1-based) with a[i] + a[j] = s."
  const checker = `function check(input, expected, actual) {
  const nums = input.trim().split(/\\s+/).map(Number);
  const n = nums[0], s = nums[1], a = nums.slice(2, 2 + n);
  const out = actual.trim().split(/\\s+/).filter(Boolean);
  if (out.length !== 2) return { ok: false, reason: 'expected two indices, got ' + out.length + ' tokens' };
  const i = Number(out[0]), j = Number(out[1]);
  if (!Number.isInteger(i) || !Number.isInteger(j) || i < 1 || j > n || i >= j) return { ok: false, reason: 'need 1 <= i < j <= ' + n };
  if (a[i - 1] + a[j - 1] !== s) return { ok: false, reason: 'a[' + i + '] + a[' + j + '] = ' + (a[i - 1] + a[j - 1]) + ', not ' + s };
  return true;
}`;
  const input = '5 7\n1 6 3 4 2\n';

  it('accepts two different valid answers and rejects a wrong one with its reason', async () => {
    expect(await runChecker(checker, { input, expected: '1 2', actual: '1 2\n' }, L)).toEqual({ ok: true });
    expect(await runChecker(checker, { input, expected: '1 2', actual: '3 4' }, L)).toEqual({ ok: true });
    expect(await runChecker(checker, { input, expected: '1 2', actual: '1 3' }, L)).toEqual({
      ok: false,
      reason: 'a[1] + a[3] = 4, not 7',
    });
    expect(await runChecker(checker, { input, expected: '1 2', actual: '2 1' }, L)).toEqual({
      ok: false,
      reason: 'need 1 <= i < j <= 5',
    });
    const arrow =
      'const noop = 1; console.log(noop);\nconst check = (input, expected, actual) => ({ ok: actual.trim() === expected.trim(), reason: "compared" });';
    expect(await runChecker(arrow, { input: '', expected: 'x', actual: 'y' }, L)).toEqual({
      ok: false,
      reason: 'compared',
    });
  });

  it('the answers of two different correct solutions both pass the checker', async () => {
    const first = `const [n, s, ...a] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
outer: for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (a[i] + a[j] === s) { console.log(i + 1, j + 1); break outer; }`;
    const last = first.replace(
      'for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++)',
      'for (let j = n - 1; j >= 0; j--) for (let i = j - 1; i >= 0; i--)',
    );
    // The stdout comparison only knows "1 2"; the second solution's different answer is a wrong_answer there.
    expect((await runJavaScript(first, [{ input, output: '1 2' }], L)).verdicts[0]!.verdict).toBe('pass');
    expect((await runJavaScript(last, [{ input, output: '1 2' }], L)).verdicts[0]).toMatchObject({
      verdict: 'wrong_answer',
      detail: 'line 1: expected "1 2" got "3 4"',
    });
    expect(await runChecker(checker, { input, expected: '1 2', actual: '3 4\n' }, L)).toEqual({ ok: true });
  });

  const broken: Array<[string, string, RegExp]> = [
    ['a syntax error', 'function check(input, expected, actual) { return ', /checker does not compile: SyntaxError/],
    ['no check function', 'function chek() { return true; }', /no global function check/],
    ['a throwing check', "function check() { throw new Error('boom'); }", /checker threw while checking: boom/],
    ['a throwing top level', "throw new TypeError('bad setup');", /checker threw while loading: TypeError: bad setup/],
    ['an infinite loop', 'function check() { for (;;) {} }', /checker timed out/],
    ['a wrong return type', 'function check() { return 1; }', /check\(\) returned number/],
    ['a memory bomb', "function check() { let s = 'ab'; for (;;) s += s; }", /checker ran out of memory/],
  ];
  for (const [name, source, message] of broken) {
    it(`a broken checker (${name}) raises CheckerError`, async () => {
      const err = await runChecker(source, { input, expected: '1 2', actual: '1 2' }, L).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CheckerError);
      expect((err as CheckerError).name).toBe('CheckerError');
      expect((err as CheckerError).message).toMatch(message);
    });
  }
});

describe('host processes', () => {
  it('no host process remains after shutdownJsSandbox()', async () => {
    await runJavaScript(
      'console.log(1)',
      [
        { input: '', output: '1' },
        { input: '', output: '1' },
      ],
      L,
    );
    const pids = jsSandboxHostPids();
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every(alive)).toBe(true);
    await shutdownJsSandbox();
    expect(jsSandboxHostPids()).toEqual([]);
    for (const pid of pids) {
      expect(alive(pid)).toBe(false);
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    }
    // and the pool starts afresh afterwards
    expect((await one('console.log(2)', '', '2')).verdict).toBe('pass');
  });

  /** Starts a 700 ms busy program on a fresh single-host pool and does `act(hostPid)` while it runs. */
  async function disturbRun(act: (pid: number) => void) {
    await shutdownJsSandbox();
    const limits: SandboxLimits = { ...L, wallTimeMs: 1000, cpuTimeMs: 1000, parallelism: 1 };
    const busy = "const t = Date.now(); while (Date.now() - t < 700) {} console.log('done')";
    expect((await one('console.log(1)', '', '1', limits)).verdict).toBe('pass'); // the host is up
    const pids = jsSandboxHostPids();
    expect(pids).toHaveLength(1);
    const pid = pids[0]!;
    const pending = runJavaScript(busy, [{ input: '', output: 'done' }], limits);
    await new Promise((r) => setTimeout(r, 300)); // the run is under way
    act(pid);
    const v = (await pending).verdicts[0]!;
    expect(await waitUntil(() => !alive(pid), 5000)).toBe(true);
    // a replacement host serves the next request
    expect((await runJavaScript(busy, [{ input: '', output: 'done' }], limits)).verdicts[0]!.verdict).toBe('pass');
    expect(jsSandboxHostPids()).not.toContain(pid);
    return v;
  }

  it('a host that stops answering is SIGKILLed by the watchdog: time_limit', async () => {
    const v = await disturbRun((pid) => process.kill(pid, 'SIGSTOP'));
    expect(v).toMatchObject({ verdict: 'time_limit', detail: 'wall-clock limit (sandbox host killed)' });
    expect(v.timeMs).toBeGreaterThanOrEqual(2400); // wallTimeMs + 1.5 s margin
  });

  it('a host that dies during a run gives runtime_error "sandbox host crashed"', async () => {
    const v = await disturbRun((pid) => process.kill(pid, 'SIGABRT'));
    expect(v).toMatchObject({
      verdict: 'runtime_error',
      detail: expect.stringMatching(/^sandbox host crashed: signal SIGABRT/),
    });
  });

  it('a host that faults (SIGSEGV) during a run is the sandbox failing: the test runs again on a fresh host', async () => {
    const v = await disturbRun((pid) => process.kill(pid, 'SIGSEGV'));
    expect(v.verdict).toBe('pass');
  });

  it('a program whose host faults on both tries gives runtime_error "sandbox host crashed"', async () => {
    await shutdownJsSandbox();
    const limits: SandboxLimits = { ...L, wallTimeMs: 3000, cpuTimeMs: 3000, parallelism: 1 };
    const busy = "const t = Date.now(); while (Date.now() - t < 900) {} console.log('done')";
    const pending = runJavaScript(busy, [{ input: '', output: 'done' }], limits);
    // fault every host that shows up while the test runs (the first and its replacement)
    const faulted = new Set<number>();
    const timer = setInterval(() => {
      for (const pid of jsSandboxHostPids())
        if (!faulted.has(pid) && alive(pid)) {
          faulted.add(pid);
          setTimeout(() => process.kill(pid, 'SIGSEGV'), 300);
        }
    }, 20);
    const v = (await pending).verdicts[0]!;
    clearInterval(timer);
    expect(faulted.size).toBeGreaterThanOrEqual(2);
    expect(v).toMatchObject({
      verdict: 'runtime_error',
      detail: expect.stringMatching(/^sandbox host crashed: signal SIGSEGV/),
    });
  });

  /** Runs a separate Node process that uses the sandbox; returns it with its first stdout line. */
  function childUsingSandbox(
    stay: boolean,
  ): Promise<{ pid: number; hostPids: number[]; exited: Promise<number | null> }> {
    const script = `const { runJavaScript, jsSandboxHostPids } = require(${JSON.stringify(SANDBOX_MODULE)});
runJavaScript('console.log(7)', [{ input: '', output: '7' }], { wallTimeMs: 4000, cpuTimeMs: 2000, memoryMb: 64, maxProcesses: 1, maxOutputBytes: 65536, parallelism: 1 })
  .then((r) => {
    console.log(JSON.stringify({ verdict: r.verdicts[0].verdict, pids: jsSandboxHostPids() }));
    if (${stay}) setInterval(() => {}, 1000);
  });`;
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        const msg = JSON.parse(out.slice(0, nl)) as { verdict: string; pids: number[] };
        if (msg.verdict !== 'pass') reject(new Error(`child run: ${out}`));
        resolve({ pid: child.pid!, hostPids: msg.pids, exited });
      });
      void exited.then((code) => {
        if (!out.includes('\n')) reject(new Error(`child exited ${code} before reporting: ${err}`));
      });
    });
  }

  it('hosts do not keep their parent alive, and go away with it', async () => {
    const c = await childUsingSandbox(false);
    expect(c.hostPids).toHaveLength(1);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), 15_000)));
    const code = await Promise.race([c.exited, stuck]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(await waitUntil(() => !c.hostPids.some(alive), 5000)).toBe(true);
  });

  it('hosts of a SIGKILLed parent kill themselves', async () => {
    const c = await childUsingSandbox(true);
    expect(c.hostPids.every(alive)).toBe(true);
    process.kill(c.pid, 'SIGKILL');
    await c.exited;
    expect(await waitUntil(() => !c.hostPids.some(alive), 5000)).toBe(true);
  });
});
