// CPU time of a process tree from Linux /proc: utime + stime of a process and every live descendant, so a benchmark
// can say how much CPU a phase cost across the bench process (in-process workers), the Temporal dev server and any
// model or fake server it spawned, independent of how busy the machine is with other work.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the project runs on

export interface ProcessCpu {
  pid: number;
  /** The process's command name (`comm`), e.g. `node` or `temporal`. */
  name: string;
  /** CPU seconds (user + system) used so far. */
  seconds: number;
}

function readStat(pid: number): { name: string; ppid: number; seconds: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  // fields after the name: state(0) ppid(1) ... utime(11) stime(12)
  const fields = text.slice(close + 2).split(' ');
  return { name, ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** The process `root` and all its live descendants, with the CPU each has used so far. */
export function processTreeCpu(root: number = process.pid): ProcessCpu[] {
  const stats = new Map<number, { name: string; ppid: number; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const inTree = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats)
      if (!inTree.has(pid) && inTree.has(stat.ppid)) {
        inTree.add(pid);
        grew = true;
      }
  }
  return [...inTree].flatMap((pid) => {
    const stat = stats.get(pid);
    return stat ? [{ pid, name: stat.name, seconds: stat.seconds }] : [];
  });
}

/**
 * CPU seconds each labelled process used between two snapshots, plus `total` over every process in the tree (a
 * process that started after `before` counts from zero; one that exited before `after` is lost).
 */
export function cpuDelta(
  before: ProcessCpu[],
  after: ProcessCpu[],
  labels: Record<string, number | undefined>,
): Record<string, number> {
  const start = new Map(before.map((p) => [p.pid, p.seconds]));
  const used = (p: ProcessCpu) => p.seconds - (start.get(p.pid) ?? 0);
  const out: Record<string, number> = {};
  for (const [label, pid] of Object.entries(labels)) {
    const p = after.find((q) => q.pid === pid);
    out[label] = p ? used(p) : 0;
  }
  out.total = after.reduce((sum, p) => sum + used(p), 0);
  return out;
}
