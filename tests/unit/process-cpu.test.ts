// The stage bench's CPU accounting (lib/bench/process-cpu.ts): a process tree read from /proc, and what each
// labelled process and the whole tree used between two snapshots.
import { spawn } from 'node:child_process';
import { cpuDelta, processTreeCpu } from '../../lib/bench/process-cpu';

describe('process tree CPU', () => {
  it('finds this process and a child it spawned, and counts the CPU the child used', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 300; while (Date.now() < end);'], {
      stdio: 'ignore',
    });
    try {
      const before = processTreeCpu();
      expect(before.map((p) => p.pid)).toEqual(expect.arrayContaining([process.pid, child.pid]));
      expect(before.find((p) => p.pid === child.pid)!.name).toMatch(/node/);
      // sample while the child still runs: its spin has used some CPU by the time it has run a while
      await new Promise((resolve) => setTimeout(resolve, 250));
      const used = cpuDelta(before, processTreeCpu(), { me: process.pid, child: child.pid, gone: 999_999_999 });
      expect(used.child).toBeGreaterThan(0);
      expect(used.gone).toBe(0);
      expect(used.total! + 1e-9).toBeGreaterThanOrEqual(used.child! + used.me!);
    } finally {
      child.kill();
    }
  });
});
