/**
 * What a sandbox's control group may hold (see cgroup.ts). The program of a test gets `memoryMb` on top of a
 * started interpreter and `maxProcesses` on top of the sandbox's own processes, in both modes:
 *  - fresh mode: the group holds bwrap's monitor and init and the interpreter that runs the program; its memory
 *    limit is the measured cost of a started interpreter (the availability probe's peak) plus memoryMb;
 *  - fork mode: the group holds bwrap's monitor, the fork server and the program's zygote; before each test the
 *    limit is set to what they hold then plus memoryMb.
 * Going over either is the kernel's OOM killer acting in the group (memory_limit) or a failed fork.
 */
import type { SandboxLimits } from './types';

const MIB = 1024 * 1024;
/** bwrap's monitor and init (fresh), or the monitor, the fork server and the zygote (fork) */
const FRESH_OWN_PROCESSES = 2;
const FORK_OWN_PROCESSES = 3;
/** the start-up cost assumed until the probe has measured it */
const DEFAULT_INTERPRETER_BYTES = 48 * MIB;
const MAX_PLAUSIBLE_INTERPRETER_BYTES = 256 * MIB;

let interpreterBytes = DEFAULT_INTERPRETER_BYTES;

/** Records the peak memory of a trivial fresh run (the probe): the cost of a started interpreter. */
export function recordInterpreterBaseline(peakBytes: number | undefined): void {
  if (peakBytes !== undefined && peakBytes > 0 && peakBytes < MAX_PLAUSIBLE_INTERPRETER_BYTES)
    interpreterBytes = peakBytes;
}

export interface GroupLimits {
  memoryBytes: number;
  pids: number;
}

export function freshGroupLimits(limits: SandboxLimits): GroupLimits {
  return { memoryBytes: interpreterBytes + limits.memoryMb * MIB, pids: limits.maxProcesses + FRESH_OWN_PROCESSES };
}

/** `heldBytes`: what the group holds between tests (server and zygote). */
export function forkGroupLimits(limits: SandboxLimits, heldBytes: number): GroupLimits {
  // what the server and zygote hold, rounded up to whole MiB, so the limit stays the same from test to test
  return {
    memoryBytes: Math.ceil(heldBytes / MIB) * MIB + limits.memoryMb * MIB,
    pids: limits.maxProcesses + FORK_OWN_PROCESSES,
  };
}
