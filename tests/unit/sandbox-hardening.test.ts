// Hostile programs against the Python sandbox, one group per defect an attacker's review found (issue 12): memory
// residue across programs and tests, inherited descriptors, sabotage of the fork server, SysV/POSIX IPC, aggregate
// memory and CPU limits, socket families, and fidelity with the reference harness. Each runs in both modes.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { evaluateCompletion } from '../../activities/sandbox/activities';
import { cgroupSupport } from '../../activities/sandbox/cgroup';
import { shutdownInterpreterPool } from '../../activities/sandbox/interpreter-pool';
import {
  DEFAULT_LIMITS,
  runPython,
  sandboxAvailable,
  type SandboxLimits,
  type SandboxMode,
} from '../../activities/sandbox/python-sandbox';
import { SandboxConfigSchema } from '../../domain/platform/config';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
/** this Node with the TypeScript loader in-process (the tsx CLI would start a second process) */
const NODE_TS = `${process.execPath} --import tsx`;
const MODES: SandboxMode[] = ['fork', 'fresh'];
const L: SandboxLimits = {
  ...DEFAULT_LIMITS,
  wallTimeMs: 8000,
  cpuTimeMs: 1500,
  memoryMb: 128,
  maxProcesses: 32,
  maxOutputBytes: 1 << 20,
  parallelism: 1,
};

/** Runs `code` on the inputs and returns each test's verdict and raw stdout (a judge that records and accepts). */
async function outputs(code: string, inputs: string[], mode: SandboxMode, limits: SandboxLimits = L) {
  const seen = new Map<string, string>();
  const r = await runPython(
    code,
    inputs.map((input) => ({ input, output: '' })),
    limits,
    {
      mode,
      judge: async (test, stdout) => {
        seen.set(test.input, stdout);
        return { ok: true };
      },
    },
  );
  return r.verdicts.map((v, i) => ({ verdict: v.verdict, detail: v.detail, stdout: seen.get(inputs[i]!) }));
}

const verdictOf = async (code: string, mode: SandboxMode, limits: SandboxLimits = L, input = '', output = 'ok') =>
  (await runPython(code, [{ input, output }], limits, { mode })).verdicts[0]!;

beforeAll(async () => {
  if (!(await sandboxAvailable())) throw new Error('python sandbox unavailable: install Debian package bubblewrap');
});
afterAll(() => shutdownInterpreterPool());

// A scanner of its own memory for strings of the form PCSBXRESIDUE + 16 hex digits (none in its own source).
const SCANNER = [
  'import re, sys',
  'data = sys.stdin.read()',
  "pat = re.compile(rb'PCSBX' + rb'RESIDUE[0-9a-f]{16}')",
  'found = set()',
  "mem = open('/proc/self/mem', 'rb', 0)",
  "for line in open('/proc/self/maps').read().splitlines():",
  '    addr, perms = line.split()[:2]',
  "    if 'r' not in perms: continue",
  "    lo, hi = (int(x, 16) for x in addr.split('-'))",
  '    if hi - lo > (256 << 20): continue',
  '    try:',
  '        mem.seek(lo)',
  '        chunk = mem.read(hi - lo)',
  '    except (OSError, ValueError, OverflowError):',
  '        continue',
  '    found.update(m.group().decode() for m in pat.finditer(chunk))',
  "print(' '.join(sorted(found)) or 'none')",
].join('\n');

const marker = () => `PCSBXRESIDUE${[...Array(16)].map(() => Math.floor(Math.random() * 16).toString(16)).join('')}`;

describe('no memory residue across programs and tests', () => {
  it.each(MODES)(
    "a program finds neither an earlier program's text nor an earlier test's input in its memory (%s mode)",
    async (mode) => {
      // one interpreter, so that every program and test of this case runs on the same fork server
      shutdownInterpreterPool();
      const limits = { ...L, memoryMb: 512, parallelism: 1 };
      const source = marker();
      const inputs = [marker(), marker()];
      const earlier = await outputs(`# ${source}\nimport sys\nprint(sys.stdin.read().upper())`, inputs, mode, limits);
      expect(earlier.map((t) => t.verdict)).toEqual(['pass', 'pass']);
      // a later program on the same server: nothing of the earlier program or its tests
      const later = await outputs(SCANNER, ['scan'], mode, limits);
      expect(later[0]).toMatchObject({ verdict: 'pass', stdout: 'none\n' });
      // within one program: the second test does not see the first test's input
      const first = marker();
      const within = await outputs(SCANNER, [first, 'scan'], mode, limits);
      expect(within[0]!.stdout).toContain(first); // its own input, as a sanity check of the scanner
      expect(within[1]).toMatchObject({ verdict: 'pass', stdout: 'none\n' });
    },
  );
});

describe('inherited descriptors', () => {
  const script = (mode: SandboxMode) => `
    import { runPython, DEFAULT_LIMITS } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/python-sandbox'))};
    import { shutdownInterpreterPool } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/interpreter-pool'))};
    const prog = 'import os\\nopen_fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))\\n' +
      'bad = []\\nfor fd in (200, 201):\\n    try:\\n        os.fstat(fd); bad.append(fd)\\n    except OSError:\\n        pass\\nprint(open_fds, bad)';
    runPython(prog, [{ input: '', output: '[0, 1, 2, 3] []' }], { ...DEFAULT_LIMITS, parallelism: 1 }, { mode: '${mode}' })
      .then((r) => { console.log(JSON.stringify(r.verdicts[0])); shutdownInterpreterPool(); });
  `;
  it.each(MODES)(
    'descriptors the worker inherited (a host directory, a writable host file) never reach the program (%s mode)',
    async (mode) => {
      const hostFile = path.join(os.tmpdir(), `pcsbx-fd-${process.pid}-${mode}`);
      const file = path.join(os.tmpdir(), `pcsbx-fd-${process.pid}-${mode}.ts`);
      fs.writeFileSync(file, script(mode));
      try {
        // bash leaves fds 200 (the host root, read) and 201 (a host file, write) open without close-on-exec; Node
        // marks only its low inherited descriptors close-on-exec at start
        const { stdout } = await run('bash', ['-c', `exec 200</ 201>>${hostFile}; exec ${NODE_TS} ${file}`], {
          cwd: ROOT,
          timeout: 60_000,
        });
        expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ verdict: 'pass' });
        expect(fs.readFileSync(hostFile, 'utf8')).toBe('');
      } finally {
        fs.rmSync(file, { force: true });
        fs.rmSync(hostFile, { force: true });
      }
    },
    90_000,
  );

  it('a worker closes the descriptors it inherited at start, and keeps its own', async () => {
    const file = path.join(os.tmpdir(), `pcsbx-close-${process.pid}.ts`);
    fs.writeFileSync(
      file,
      `import { closeInheritedDescriptors, inheritableDescriptors } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/descriptors'))};
       const before = inheritableDescriptors();
       const closed = closeInheritedDescriptors();
       console.log(JSON.stringify({ before, closed, after: inheritableDescriptors() }));`,
    );
    try {
      const { stdout } = await run('bash', ['-c', `exec 200</ 201</dev/null; exec ${NODE_TS} ${file}`], {
        cwd: ROOT,
        timeout: 60_000,
      });
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as { before: number[]; closed: number[]; after: number[] };
      expect(r.before).toEqual(expect.arrayContaining([200, 201]));
      expect(r.closed).toEqual(expect.arrayContaining([200, 201]));
      expect(r.after).toEqual([]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 60_000);
});

describe('a test cannot sabotage the processes that run the next tests', () => {
  const SABOTAGE = [
    'import os, resource',
    'p = os.getppid()',
    'out = []',
    'def attempt(name, f):',
    '    try:',
    '        f(); out.append(name + " done")',
    '    except OSError as e:',
    '        out.append(name + " refused")',
    'attempt("prlimit", lambda: resource.prlimit(p, resource.RLIMIT_NPROC, (1, 1)))',
    'attempt("prlimit-as", lambda: resource.prlimit(p, resource.RLIMIT_AS, (1 << 20, 1 << 20)))',
    'attempt("setpriority", lambda: os.setpriority(os.PRIO_PROCESS, p, 19))',
    'attempt("setpriority-user", lambda: os.setpriority(os.PRIO_USER, 0, 19))',
    'attempt("setpriority-group", lambda: os.setpriority(os.PRIO_PGRP, os.getpgid(p), 19))',
    'attempt("affinity", lambda: os.sched_setaffinity(p, {0}))',
    'attempt("scheduler", lambda: os.sched_setscheduler(p, os.SCHED_IDLE, os.sched_param(0)))',
    'attempt("self-prlimit", lambda: resource.prlimit(0, resource.RLIMIT_NOFILE, (512, 512)))',
    'attempt("self-priority", lambda: os.setpriority(os.PRIO_PROCESS, 0, 1))',
    'print(", ".join(out))',
  ].join('\n');
  const CHECK = [
    'import os, resource',
    'ok = os.getpriority(os.PRIO_PROCESS, 0) == 0 and os.sched_getscheduler(0) == os.SCHED_OTHER',
    'ok = ok and len(os.sched_getaffinity(0)) == os.cpu_count()',
    'ok = ok and resource.getrlimit(resource.RLIMIT_AS)[0] > (64 << 20) and resource.getrlimit(resource.RLIMIT_NPROC)[0] > 8',
    'pids = [os.fork() for _ in range(4)]',
    'if 0 in pids: os._exit(0)',
    'for q in pids: os.waitpid(q, 0)',
    'print("clean" if ok else "poisoned")',
  ].join('\n');

  it.each(MODES)(
    'limits, priority and scheduling of other processes are refused; the next test is untouched (%s mode)',
    async (mode) => {
      const saboteur = await outputs(SABOTAGE, ['x'], mode);
      expect(saboteur[0]!.stdout!.trim()).toBe(
        'prlimit refused, prlimit-as refused, setpriority refused, setpriority-user refused, setpriority-group refused, affinity refused, scheduler refused, self-prlimit done, self-priority done',
      );
      // the same program's next tests, and the next program, run on what the saboteur could reach
      const program = `import sys\nif sys.stdin.read().strip() == "attack":\n${SABOTAGE.replace(/^/gm, '    ')}\nelse:\n${CHECK.replace(/^/gm, '    ')}`;
      const r = await outputs(program, ['attack', 'check-1', 'check-2'], mode);
      expect(r.map((t) => t.stdout?.trim().split(', ')[0])).toEqual(['prlimit refused', 'clean', 'clean']);
      expect((await outputs(CHECK, ['again'], mode))[0]!.stdout).toBe('clean\n');
    },
  );
});

describe('SysV IPC and POSIX message queues', () => {
  const IPC = [
    'import ctypes, os',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'res = []',
    'for name, call in (("shmget", lambda: libc.shmget(0, 1 << 20, 0o1600)), ("semget", lambda: libc.semget(0, 1, 0o1600)),',
    '                   ("msgget", lambda: libc.msgget(0, 0o1600)), ("mq_open", lambda: libc.mq_open(b"/q", 0o100 | 2, 0o600, None))):',
    '    r = call()',
    '    res.append(name + " " + ("created" if r >= 0 else os.strerror(ctypes.get_errno())))',
    'print(", ".join(res))',
  ].join('\n');
  it.each(MODES)(
    'cannot be created, so nothing outlives a test or escapes the memory limit (%s mode)',
    async (mode) => {
      const r = await outputs(IPC, ['x'], mode);
      const refused = 'Function not implemented';
      expect(r[0]!.stdout!.trim()).toBe(`shmget ${refused}, semget ${refused}, msgget ${refused}, mq_open ${refused}`);
      // multiprocessing's locks (POSIX semaphores in /dev/shm) still work
      const mp = 'import multiprocessing as mp\nl = mp.Lock()\nwith l: pass\nq = mp.Queue(); q.put(5); print(q.get())';
      expect((await verdictOf(mp, mode, L, '', '5')).verdict).toBe('pass');
    },
  );
});

describe('socket families', () => {
  const FAMILIES = [
    'import socket',
    'res = []',
    'for fam, kind in ((40, socket.SOCK_STREAM), (16, socket.SOCK_RAW), (17, socket.SOCK_RAW), (38, socket.SOCK_SEQPACKET), (1, socket.SOCK_STREAM), (2, socket.SOCK_STREAM), (10, socket.SOCK_DGRAM)):',
    '    try:',
    '        socket.socket(fam, kind).close(); res.append(str(fam) + " ok")',
    '    except OSError as e:',
    '        res.append(str(fam) + " " + str(e.errno))',
    'a, b = socket.socketpair(); a.close(); b.close()',
    'print(", ".join(res))',
  ].join('\n');
  it.each(MODES)(
    'only AF_UNIX, AF_INET and AF_INET6 sockets can be made; AF_VSOCK, netlink, packet, alg cannot (%s mode)',
    async (mode) => {
      const r = await outputs(FAMILIES, ['x'], mode);
      expect(r[0]).toMatchObject({ verdict: 'pass' });
      expect(r[0]!.stdout!.trim()).toBe('40 97, 16 97, 17 97, 38 97, 1 ok, 2 ok, 10 ok');
    },
  );
});

const support = cgroupSupport();

describe(`aggregate limits (cgroup: ${support.layout ?? `none: ${support.reason}`})`, () => {
  const M = { ...L, memoryMb: 96 };
  const memoryPrograms: Record<string, string> = {
    'several children, each under the per-process limit':
      'import os, time\nps = []\nfor i in range(4):\n    p = os.fork()\n    if p == 0:\n        b = bytearray(60 << 20)\n        for j in range(0, len(b), 4096): b[j] = 1\n        time.sleep(1); os._exit(0)\n    ps.append(p)\nfor p in ps: os.waitpid(p, 0)\nprint("ok")',
    'memfds (not in the address space)':
      'import os\nfds = []\nb = b"x" * (1 << 20)\nfor i in range(400):\n    fd = os.memfd_create("x"); os.write(fd, b); fds.append(fd)\nprint("ok")',
    'tmpfs inodes': 'import os\nfor i in range(150000): open("f%d" % i, "w").close()\nprint("ok")',
    // files are at most 1 MiB each (RLIMIT_FSIZE): fill both tmpfs with many, then add memfds
    '/dev/shm and /scratch pages':
      'import os\nb = b"x" * (1 << 20)\nfor d in ("/dev/shm", "/scratch"):\n    i = 0\n    try:\n        while True:\n            with open("%s/f%d" % (d, i), "wb") as f: f.write(b)\n            i += 1\n    except OSError: pass\nfds = [os.memfd_create("y") for _ in range(60)]\nfor fd in fds: os.write(fd, b)\nprint("ok")',
  };
  const cpuPrograms: Record<string, string> = {
    'catching SIGXCPU':
      'import signal, time\nsignal.signal(signal.SIGXCPU, lambda *a: None)\nt = time.process_time()\nwhile time.process_time() - t < 2.4: pass\nprint("ok")',
    'under the whole seconds of RLIMIT_CPU':
      'import time\nt = time.process_time()\nwhile time.process_time() - t < 1.8: pass\nprint("ok")',
    'parallel processes':
      'import os, time\nps = []\nfor i in range(3):\n    p = os.fork()\n    if p == 0:\n        t = time.process_time()\n        while time.process_time() - t < 1.1: pass\n        os._exit(0)\n    ps.append(p)\nfor p in ps: os.waitpid(p, 0)\nprint("ok")',
    'a fork relay':
      'import os, time\nfor k in range(4):\n    t = time.process_time()\n    while time.process_time() - t < 0.7: pass\n    if os.fork() != 0:\n        os.wait(); break\nif k == 0: print("ok")',
  };
  if (support.layout) {
    it.each(MODES.flatMap((mode) => Object.keys(memoryPrograms).map((name) => [mode, name] as const)))(
      '%s mode: memory of %s counts → memory_limit',
      async (mode, name) => {
        expect((await verdictOf(memoryPrograms[name]!, mode, M)).verdict).toBe('memory_limit');
      },
    );
    it.each(MODES.flatMap((mode) => Object.keys(cpuPrograms).map((name) => [mode, name] as const)))(
      '%s mode: CPU time of %s counts → time_limit',
      async (mode, name) => {
        const v = await verdictOf(cpuPrograms[name]!, mode);
        expect(v.verdict).toBe('time_limit');
        expect(v.cpuMs).toBeGreaterThan(L.cpuTimeMs);
      },
    );
  }
  it.each(MODES)(
    'a program within the limits passes (%s mode): 60 MiB of 96, 0.8 s of 1.5 s CPU, 8 processes',
    async (mode) => {
      const code =
        'import os, time\nb = bytearray(60 << 20)\nfor j in range(0, len(b), 4096): b[j] = 1\nps = [os.fork() for _ in range(1)]\nif 0 in ps: os._exit(0)\nos.waitpid(ps[0], 0)\nt = time.process_time()\nwhile time.process_time() - t < 0.8: pass\nprint("ok")';
      const v = await verdictOf(code, mode, M);
      expect(v.verdict).toBe('pass');
      if (support.layout) expect(v.cpuMs).toBeGreaterThan(700);
    },
  );
  it('without a cgroup, fork mode still holds the main process to cpuTimeMs by its measured CPU time', async () => {
    const file = path.join(os.tmpdir(), `pcsbx-nocg-${process.pid}.ts`);
    fs.writeFileSync(
      file,
      `import { runPython, DEFAULT_LIMITS } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/python-sandbox'))};
       import { shutdownInterpreterPool } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/interpreter-pool'))};
       import { cgroupSupport } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/cgroup'))};
       const code = ${JSON.stringify(cpuPrograms['under the whole seconds of RLIMIT_CPU'])};
       runPython(code, [{ input: '', output: 'ok' }], { ...DEFAULT_LIMITS, cpuTimeMs: 1500, parallelism: 1 }, { mode: 'fork' })
         .then((r) => { console.log(JSON.stringify({ support: cgroupSupport(), verdict: r.verdicts[0] })); shutdownInterpreterPool(); });`,
    );
    try {
      const { stdout } = await run(TSX, [file], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, PROMPTCOT_SANDBOX_CGROUP: 'off' },
      });
      const r = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(r.support.layout).toBeUndefined();
      expect(r.verdict.verdict).toBe('time_limit');
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 90_000);
});

describe('fidelity with the reference harness', () => {
  it.each(MODES)('stdin is seekable in both modes, as the reference harness StringIO (%s mode)', async (mode) => {
    const code =
      'import sys\na = sys.stdin.read()\nsys.stdin.seek(0)\nprint(sys.stdin.read() == a, sys.stdin.seekable(), a.strip())';
    expect((await verdictOf(code, mode, L, '7 8\n', 'True True 7 8')).verdict).toBe('pass');
  });
  it.each(MODES)('a leading U+FEFF is not whitespace to Python: the output does not match (%s mode)', async (mode) => {
    expect((await verdictOf('print("\\ufeff5")', mode, L, '', '5')).verdict).toBe('wrong_answer');
    expect((await verdictOf('print("5\\ufeff")', mode, L, '', '5')).verdict).toBe('wrong_answer');
    expect((await verdictOf('print("\\u20025\\u3000")', mode, L, '', '5')).verdict).toBe('pass');
  });
  it.each(MODES)(
    'exit statuses as CPython: sys.exit(2**64) fails, sys.exit(2**40) is status 0 (%s mode)',
    async (mode) => {
      expect((await verdictOf('import sys\nprint("ok")\nsys.exit(2**64)', mode)).verdict).toBe('runtime_error');
      expect((await verdictOf('import sys\nprint("ok")\nsys.exit(-2**70)', mode)).verdict).toBe('runtime_error');
      expect((await verdictOf('import sys\nprint("ok")\nsys.exit(2**40)', mode)).verdict).toBe('pass');
      expect((await verdictOf('import sys\nprint("ok")\nsys.exit(256)', mode)).verdict).toBe('pass');
    },
  );
  it.each(MODES)(
    'output written by a leftover process after the main process exited is never taken (%s mode)',
    async (mode) => {
      const code =
        'import os, time\nif os.fork() == 0:\n    time.sleep(0.05)\n    os.write(1, b"42\\n")\n    os._exit(0)';
      const r = await runPython(
        code,
        Array.from({ length: 12 }, () => ({ input: '', output: '42' })),
        { ...L, parallelism: 2 },
        { mode },
      );
      expect(r.verdicts.map((v) => v.verdict)).toEqual(Array(12).fill('wrong_answer'));
    },
  );
  it.each(MODES)('hostname, kernel command line and host paths are not visible (%s mode)', async (mode) => {
    const code = [
      'import socket',
      'roots = sorted({l.split()[3] for l in open("/proc/self/mountinfo")})',
      'print(socket.gethostname(), repr(open("/proc/cmdline").read()), repr(open("/proc/1/cmdline").read()))',
      'print(" ".join(roots))',
    ].join('\n');
    const [r] = await outputs(code, ['x'], mode);
    const [first, roots] = r!.stdout!.trim().split('\n');
    expect(first).toBe("sandbox '' ''");
    const hostPaths = roots!
      .split(' ')
      .filter(
        (root) => !/^\/(usr|newroot|irq|bus|bindfile[^/]*\/\/deleted|null|zero|full|random|urandom|tty)?$/.test(root),
      );
    expect(hostPaths).toEqual([]);
    expect(roots).not.toContain(ROOT);
    expect(roots).not.toContain(os.homedir());
  });
  it('a checker that throws on a wrong output fails that test only; one that rejects the expected output is broken', async () => {
    const config = SandboxConfigSchema.parse({ wallTimeMs: 8000, cpuTimeMs: 4000, memoryMb: 256, concurrency: 1 });
    const checker =
      'function check(input, expected, actual) { if (!/^\\d+$/.test(actual.trim())) throw new Error("not a number"); return actual.trim() === expected.trim(); }';
    const code = 'a, b = map(int, input().split())\nprint("abc" if a == 0 else a + b)';
    const tests = [
      { input: '0 1', output: '1' },
      { input: '2 3', output: '5' },
    ];
    const r = await evaluateCompletion(config, { code, tests, checker });
    expect(r.verdicts.map((v) => v.verdict)).toEqual(['wrong_answer', 'pass']);
    expect(r.verdicts[0]!.detail).toMatch(/checker error.*not a number/);
    expect(r.reward).toBe(0);
    const broken = 'function check(input, expected, actual) { throw new Error("always"); }';
    await expect(evaluateCompletion(config, { code, tests, checker: broken })).rejects.toThrow(/always/);
  });
});

describe('sandbox uids are allocated per host', () => {
  it('two worker processes starting at once never share a uid; stale locks of dead workers are taken over', async () => {
    const file = path.join(os.tmpdir(), `pcsbx-uids-${process.pid}.ts`);
    fs.writeFileSync(
      file,
      `import { takeUid } from ${JSON.stringify(path.join(ROOT, 'activities/sandbox/uid-slots'))};
       const uids = Array.from({ length: 20 }, () => takeUid());
       console.log(JSON.stringify(uids));
       setTimeout(() => {}, 1500);`,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcsbx-uid-locks-'));
    try {
      const env = { ...process.env, PROMPTCOT_SANDBOX_UID_DIR: dir };
      const [a, b] = await Promise.all([run(TSX, [file], { cwd: ROOT, env }), run(TSX, [file], { cwd: ROOT, env })]);
      const ua = JSON.parse(a.stdout.trim()) as number[];
      const ub = JSON.parse(b.stdout.trim()) as number[];
      expect(new Set([...ua, ...ub]).size).toBe(40);
      // both are gone now: their locks are stale and a third process takes the same slots again
      const c = await run(TSX, [file], { cwd: ROOT, env });
      expect((JSON.parse(c.stdout.trim()) as number[]).sort()).toEqual([...ua, ...ub].sort().slice(0, 20));
      // a lock held by a live process is respected
      const holder = spawn('sleep', ['30']);
      fs.writeFileSync(path.join(dir, '60000'), String(holder.pid));
      const d = await run(TSX, [file], { cwd: ROOT, env });
      holder.kill();
      expect(JSON.parse(d.stdout.trim())).not.toContain(60000);
    } finally {
      fs.rmSync(file, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
