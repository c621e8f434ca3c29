import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareStdio, decimalEquals } from '../../activities/sandbox/compare';
import { extractCode } from '../../activities/sandbox/extract-code';
import {
  DEFAULT_LIMITS,
  runPython,
  sandboxAvailable,
  sandboxProbeError,
  type SandboxLimits,
  type SandboxMode,
} from '../../activities/sandbox/python-sandbox';
import { shutdownInterpreterPool } from '../../activities/sandbox/interpreter-pool';

const MARKER = `pcsbx_marker_${process.pid}_${Date.now()}`;
const L: SandboxLimits = {
  ...DEFAULT_LIMITS,
  wallTimeMs: 4000,
  cpuTimeMs: 2000,
  memoryMb: 256,
  maxProcesses: 32,
  maxOutputBytes: 1 << 20,
};
const MODES: SandboxMode[] = ['fork', 'fresh'];
const inMode = async (mode: SandboxMode, code: string, input = '', output = '') =>
  (await runPython(`# ${MARKER}\n${code}`, [{ input, output }], L, { mode })).verdicts[0]!;

describe('compareStdio (LiveCodeBench grade_stdio)', () => {
  it('decimal equality', () => {
    expect(decimalEquals('1.0', '1')).toBe(true);
    expect(decimalEquals('1e2', '100')).toBe(true);
    expect(decimalEquals('-0', '0.000')).toBe(true);
    expect(decimalEquals('0.1', '0.10000')).toBe(true);
    expect(decimalEquals('1.5', '1.50001')).toBe(false);
    expect(decimalEquals('abc', 'abc')).toBe(false);
    expect(compareStdio('1.0 2', '1 2.00').ok).toBe(true);
    expect(compareStdio('100', '1e2').ok).toBe(true);
  });
  it('whitespace differences', () => {
    expect(compareStdio('a b\nc\n', '  a b  \nc').ok).toBe(true);
    expect(compareStdio('1 2', '1    2').ok).toBe(true); // token-wise decimal path
    expect(compareStdio('YES', 'yes').ok).toBe(false);
  });
  it('line-count mismatch and reason', () => {
    expect(compareStdio('1\n2', '1').reason).toMatch(/line count/);
    expect(compareStdio('1\n2\n5', '1\n2\n6')).toEqual({ ok: false, reason: 'line 3: expected "5" got "6"' });
  });
});

describe('extractCode', () => {
  it('takes the last fenced block after </think>', () => {
    const text =
      'think ```python\nprint(0)\n``` </think>\nA:\n```python\nprint(1)\n```\nthen\n```python\nprint(2)\n```\n';
    expect(extractCode(text)).toBe('print(2)');
    expect(extractCode('<think>```\nx\n```</think> no code')).toBeUndefined();
    expect(extractCode('```py\nprint(3)\n```')).toBe('print(3)');
    expect(extractCode('no code')).toBeUndefined();
    expect(extractCode('```\n\n```')).toBeUndefined();
  });
});

describe('python sandbox', () => {
  beforeAll(async () => {
    const ok = await sandboxAvailable();
    if (!ok) throw new Error(`python sandbox unavailable — install Debian package bubblewrap (${sandboxProbeError()})`);
  });

  afterAll(() => shutdownInterpreterPool());

  it.each(MODES)('correct, incorrect and syntax-error programs (%s mode)', async (mode) => {
    const r = await runPython(
      'a,b=map(int,input().split())\nprint(a+b)',
      [
        { input: '1 2\n', output: '3\n' },
        { input: '2 2\n', output: '5\n' },
        { input: '10 20', output: '30.0' },
      ],
      L,
      { mode },
    );
    expect(r.verdicts.map((v) => v.verdict)).toEqual(['pass', 'wrong_answer', 'pass']);
    const s = await runPython(
      'def f(:\n  pass',
      [
        { input: '', output: '' },
        { input: '', output: '' },
      ],
      L,
      { mode },
    );
    expect(s.verdicts.map((v) => v.verdict)).toEqual(['compile_error', 'compile_error']);
    expect(s.verdicts[0]!.detail).toMatch(/SyntaxError/);
  });

  it.each(MODES)('harness settings: big ints and recursion limit (%s mode)', async (mode) => {
    const one = (code: string, input = '', output = '') => inMode(mode, code, input, output);
    expect((await one('print(len(str(10**20000)))', '', '20001')).verdict).toBe('pass');
    expect((await one('import sys\nprint(sys.getrecursionlimit())', '', '50000')).verdict).toBe('pass');
  });

  describe.each(MODES)('hostile programs (%s mode)', (mode) => {
    const one = (code: string, input = '', output = '') => inMode(mode, code, input, output);
    it('infinite loop → time_limit', async () => {
      expect((await one('while True: pass')).verdict).toBe('time_limit');
      expect((await one('import time\ntime.sleep(100)')).verdict).toBe('time_limit'); // wall clock
    });
    it('memory bombs → memory_limit', async () => {
      expect((await one('x = bytearray(10**10)')).verdict).toBe('memory_limit');
      expect((await one('x = []\nwhile True: x.append([0] * 10000)')).verdict).toBe('memory_limit');
    });
    it('fork bomb is contained', async () => {
      const v = await one('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass');
      expect(v.verdict).not.toBe('pass');
      // host still able to start processes
      expect(execFileSync('/bin/echo', ['alive']).toString().trim()).toBe('alive');
    });
    it('huge output → runtime_error output limit', async () => {
      const v = await one('while True: print("x" * 1000)');
      expect(v.verdict).toBe('runtime_error');
      expect(v.detail).toBe('output limit');
    });
    it('network is unreachable (internet and host loopback)', async () => {
      let connections = 0;
      const server = net.createServer((s) => {
        connections++;
        s.destroy();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      try {
        expect((await one('import socket\nsocket.create_connection(("1.1.1.1", 80), timeout=2)')).verdict).toBe(
          'runtime_error',
        );
        expect((await one(`import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=2)`)).verdict).toBe(
          'runtime_error',
        );
      } finally {
        await new Promise((r) => server.close(r));
      }
      expect(connections).toBe(0);
    });
    it('environment and host files are invisible', async () => {
      process.env.PCSBX_SECRET = 'hunter2';
      try {
        expect(
          (await one('import os\nprint("PCSBX_SECRET" in os.environ, os.environ.get("HOME"))', '', 'False /scratch'))
            .verdict,
        ).toBe('pass');
      } finally {
        delete process.env.PCSBX_SECRET;
      }
      expect((await one('open("/root/.bashrc").read()')).verdict).toBe('runtime_error');
      expect((await one(`open(${JSON.stringify(path.resolve(__dirname, '../../package.json'))}).read()`)).verdict).toBe(
        'runtime_error',
      );
      expect(
        (
          await one(
            'import os\nprint(os.path.exists("/work"), os.path.exists("/root"), os.path.exists("/etc"))',
            '',
            'False False False',
          )
        ).verdict,
      ).toBe('pass');
    });
    it('writes outside scratch fail and leave nothing on the host', async () => {
      const name = `pcsbx_${process.pid}_${Date.now()}`;
      const hostTmp = path.join(os.tmpdir(), name);
      const hostWork = path.resolve(__dirname, name);
      expect((await one(`open(${JSON.stringify(hostTmp)}, "w").write("x")`)).verdict).toBe('runtime_error');
      expect((await one(`open(${JSON.stringify(hostWork)}, "w").write("x")`)).verdict).toBe('runtime_error');
      expect((await one('open("/usr/pwned", "w").write("x")')).verdict).toBe('runtime_error');
      expect(fs.existsSync(hostTmp)).toBe(false);
      expect(fs.existsSync(hostWork)).toBe(false);
      expect(fs.existsSync('/usr/pwned')).toBe(false);
      // scratch is writable
      expect((await one('open("f","w").write("ok")\nprint(open("f").read())', '', 'ok')).verdict).toBe('pass');
    });
    it('killing or stopping the parent, or killing everything, gives the verdict of a fresh sandbox', async () => {
      // in a fresh sandbox the parent is the namespace's init (root): the signal is refused (PermissionError)
      for (const signal of ['SIGKILL', 'SIGSTOP']) {
        const a = await one(
          `import os, signal\nos.kill(os.getppid(), signal.${signal})\nprint("still here")`,
          '',
          'still here',
        );
        expect(a.verdict).toBe('runtime_error');
        expect(a.stderr).toMatch(/PermissionError/);
      }
      // alone in its sandbox, kill(-1) finds nobody to signal (ProcessLookupError)
      const b = await one('import os\nos.kill(-1, 9)\nprint("x")', '', 'x');
      expect(b.verdict).toBe('runtime_error');
      expect(b.stderr).toMatch(/ProcessLookupError/);
      expect(process.kill(process.pid, 0)).toBe(true);
    });
    it('seccomp refuses ptrace, new user namespaces, io_uring and bpf; threads, fork and multiprocessing work', async () => {
      const prog = [
        'import ctypes, os, threading, multiprocessing',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'def sc(nr, *a):',
        '    return "ok" if libc.syscall(nr, *a) >= 0 else os.strerror(ctypes.get_errno())',
        'res = [sc(101, 0, 0, 0, 0), sc(272, 0x10000000), sc(425, 1, 0), sc(321, 0, 0, 0)]',
        'out = []',
        't = threading.Thread(target=lambda: out.append(1)); t.start(); t.join()',
        'res.append("thread " + str(out))',
        'pid = os.fork()',
        'if pid == 0: os._exit(7)',
        'res.append("fork " + str(os.waitpid(pid, 0)[1] >> 8))',
        'with multiprocessing.Pool(2) as p: res.append("pool " + str(p.map(abs, [-1, -2])))',
        'print("|".join(res))',
      ].join('\n');
      // x86-64 syscall numbers; elsewhere no filter is installed and the probe numbers mean other syscalls
      if (process.arch !== 'x64') return void expect((await one(prog)).verdict).not.toBe('compile_error');
      const refused = 'Operation not permitted';
      expect(
        await one(prog, '', `${refused}|${refused}|${refused}|${refused}|thread [1]|fork 7|pool [1, 2]`),
      ).toMatchObject({ verdict: 'pass' });
    });
    it('deep recursion → runtime_error', async () => {
      expect((await one('def f(n): return f(n+1)\nf(0)')).verdict).toBe('runtime_error');
    });
    it('background grandchild (setsid) does not survive the sandbox', async () => {
      const v = await one(
        'import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint("done")',
        '',
        'done',
      );
      expect(v.verdict).toBe('pass');
    });
    it('a test leaves nothing behind for the next one (files, background processes)', async () => {
      const prog = [
        'import os, sys, time',
        'n = int(input())',
        'if n == 0:',
        '    open("left-behind", "w").write("x")',
        '    if os.fork() == 0:',
        '        os.setsid()',
        '        time.sleep(0.4)',
        '        open("late", "w").write("x")',
        '        os._exit(0)',
        '    print("planted")',
        'else:',
        '    time.sleep(0.8)',
        '    print(os.path.exists("left-behind"), os.path.exists("late"))',
      ].join('\n');
      const r = await runPython(
        `# ${MARKER}\n${prog}`,
        [
          { input: '0', output: 'planted' },
          { input: '1', output: 'False False' },
        ],
        { ...L, parallelism: 1 },
        { mode },
      );
      expect(r.verdicts.map((v) => v.verdict)).toEqual(['pass', 'pass']);
    });
    it("the parent's memory and file descriptors are out of reach", async () => {
      const prog = [
        'import os',
        'p = os.getppid()',
        'blocked = []',
        'for f in (f"/proc/{p}/mem", f"/proc/{p}/fd/1", f"/proc/{p}/environ"):',
        '    try:',
        '        open(f, "rb").read(1)',
        '        blocked.append(False)',
        '    except OSError:',
        '        blocked.append(True)',
        'print(all(blocked))',
      ].join('\n');
      expect((await one(prog, '', 'True')).verdict).toBe('pass');
    });
    afterAll(async () => {
      shutdownInterpreterPool();
      await new Promise((r) => setTimeout(r, 300));
      const ps = execFileSync('ps', ['-eo', 'pid,args'], { maxBuffer: 1 << 24 }).toString();
      const left = ps.split('\n').filter((l) => l.includes(MARKER) && !l.includes('ps -eo'));
      expect(left).toEqual([]);
      // no sandbox uid processes remain either
      const byUid = execFileSync('ps', ['-eo', 'uid=,pid=,args='])
        .toString()
        .split('\n')
        .filter((l) => {
          const u = Number(l.trim().split(/\s+/)[0]);
          return u >= 60000 && u < 64096;
        });
      expect(byUid).toEqual([]);
    });
  });

  it.each(MODES)('runs many tests of one program in parallel, all passing (%s mode, logs the rate)', async (mode) => {
    const n = 64;
    const t0 = Date.now();
    const r = await runPython(
      'print(int(input()) * 2)',
      Array.from({ length: n }, (_, i) => ({ input: `${i}\n`, output: `${2 * i}` })),
      DEFAULT_LIMITS,
      { mode },
    );
    const secs = (Date.now() - t0) / 1000;
    expect(r.verdicts.every((v) => v.verdict === 'pass')).toBe(true);
    console.log(
      `sandbox throughput (${mode}): ${n} runs in ${secs.toFixed(2)} s = ${(n / secs).toFixed(1)} runs/s with ${os.availableParallelism()} parallel`,
    );
  });
});
