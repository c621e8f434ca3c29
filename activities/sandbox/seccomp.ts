/**
 * A seccomp filter for the Python sandbox (handed to `bwrap --seccomp FD`, which installs it right before it runs
 * the sandboxed command), written as classic BPF so that no libseccomp is needed.
 *
 * It narrows the kernel surface a hostile program can reach; the namespaces, uid, cgroup and rlimits of bwrap.ts
 * remain the main walls. x86-64 only (elsewhere no filter is installed and `seccompFilter()` returns undefined):
 *  - any other syscall ABI (32-bit `int 0x80`, x32) kills the process;
 *  - `clone3` fails with ENOSYS (its flags sit in memory a filter cannot read; the C library then falls back
 *    to `clone`, whose flags it can), `clone` with any namespace flag and `unshare`/`setns` fail with EPERM: no
 *    new user namespace, so no "root" in one, so none of the kernel code that this would open;
 *  - calls that act on another process's limits or scheduling (`prlimit64`, `sched_setaffinity`,
 *    `sched_setscheduler`, `sched_setparam`, `sched_setattr`, `migrate_pages`, `move_pages`, `ioprio_set`,
 *    `setpriority`) are allowed on the caller itself only (pid argument 0; `setpriority` and `ioprio_set` with
 *    "this process" as the target kind): a test cannot lower the limits or the priority of the fork server that
 *    runs the next tests;
 *  - `socket` and `socketpair` only for AF_UNIX, AF_INET and AF_INET6 (the last two meet an empty network
 *    namespace); any other family (AF_VSOCK, which ignores network namespaces, AF_NETLINK, AF_PACKET, ...)
 *    fails with EAFNOSUPPORT;
 *  - SysV IPC (shared memory, semaphores, message queues) and POSIX message queues fail with ENOSYS: they would
 *    outlive a test inside the sandbox's IPC namespace and SysV shared memory is charged to no process limit;
 *  - debugging and cross-process access (ptrace, process_vm_readv/writev, pidfd_getfd, process_madvise, kcmp,
 *    perf_event_open), BPF, io_uring, userfaultfd, keyrings, module loading, kexec, mount/pivot_root/chroot, swap,
 *    reboot, syslog, accounting, quotas, personality and open_by_handle_at fail with EPERM.
 * Everything else is allowed.
 */

// struct sock_filter opcodes
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
// offsets in struct seccomp_data
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argLow = (n: number) => 16 + 8 * n;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME */
const CLONE_NAMESPACE_FLAGS =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
/** setpriority's PRIO_PROCESS; ioprio_set's IOPRIO_WHO_PROCESS */
const PRIO_PROCESS = 0;
const IOPRIO_WHO_PROCESS = 1;

const X86_64 = {
  clone: 56,
  clone3: 435,
  socket: 41,
  socketpair: 53,
  /** allowed only when argument 0 (a pid) is 0, i.e. the caller */
  selfOnly: {
    prlimit64: 302,
    sched_setparam: 142,
    sched_setscheduler: 144,
    sched_setaffinity: 203,
    sched_setattr: 314,
    migrate_pages: 256,
    move_pages: 279,
  },
  /** (which, who, ...): allowed only for which = `kind` and who = 0 */
  selfOnlyByKind: { setpriority: { nr: 141, kind: PRIO_PROCESS }, ioprio_set: { nr: 251, kind: IOPRIO_WHO_PROCESS } },
  unsupported: {
    shmget: 29,
    shmat: 30,
    shmctl: 31,
    semget: 64,
    semop: 65,
    semctl: 66,
    shmdt: 67,
    msgget: 68,
    msgsnd: 69,
    msgrcv: 70,
    msgctl: 71,
    semtimedop: 220,
    mq_open: 240,
    mq_unlink: 241,
    mq_timedsend: 242,
    mq_timedreceive: 243,
    mq_notify: 244,
    mq_getsetattr: 245,
  },
  denied: {
    ptrace: 101,
    syslog: 103,
    personality: 135,
    pivot_root: 155,
    acct: 163,
    chroot: 161,
    mount: 165,
    umount2: 166,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    init_module: 175,
    delete_module: 176,
    quotactl: 179,
    kexec_load: 246,
    add_key: 248,
    request_key: 249,
    keyctl: 250,
    unshare: 272,
    perf_event_open: 298,
    fanotify_init: 300,
    open_by_handle_at: 304,
    setns: 308,
    process_vm_readv: 310,
    process_vm_writev: 311,
    kcmp: 312,
    finit_module: 313,
    kexec_file_load: 320,
    bpf: 321,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    pidfd_getfd: 438,
    process_madvise: 440,
    process_mrelease: 448,
  },
};

/** A jump target: a named block, resolved to a relative offset at assembly. */
type Label = string;

interface Insn {
  code: number;
  k: number;
  /** jump targets by label; undefined = fall through (0) */
  jt?: Label;
  jf?: Label;
  label?: Label;
}

function assemble(program: Insn[]): Buffer {
  const at = new Map<Label, number>();
  program.forEach((insn, i) => insn.label && at.set(insn.label, i));
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    const rel = (label?: Label) => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined) throw new Error(`seccomp: no label ${label}`);
      const offset = target - (i + 1);
      if (offset < 0 || offset > 255) throw new Error(`seccomp: jump to ${label} out of range`);
      return offset;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(rel(insn.jt), i * 8 + 2);
    out.writeUInt8(rel(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

const RETURNS: Insn[] = [
  { code: RET_K, k: SECCOMP_RET_ALLOW, label: 'allow' },
  { code: RET_K, k: SECCOMP_RET_ERRNO | EPERM, label: 'deny' },
  { code: RET_K, k: SECCOMP_RET_ERRNO | ENOSYS, label: 'enosys' },
  { code: RET_K, k: SECCOMP_RET_ERRNO | EAFNOSUPPORT, label: 'noFamily' },
  { code: RET_K, k: SECCOMP_RET_KILL_PROCESS, label: 'kill' },
];

/** The blocks that inspect arguments, each entered from the dispatch on the syscall number. */
function argumentChecks(): Insn[] {
  const checks: Insn[] = [
    { code: LD_W_ABS, k: argLow(0), label: 'cloneCheck' },
    { code: JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: 'deny', jf: 'allow' },
    { code: LD_W_ABS, k: argLow(0), label: 'familyCheck' },
    { code: JEQ_K, k: AF_UNIX, jt: 'allow' },
    { code: JEQ_K, k: AF_INET, jt: 'allow' },
    { code: JEQ_K, k: AF_INET6, jt: 'allow', jf: 'noFamily' },
    // pid_t arguments are ints: the kernel reads the low 32 bits only
    { code: LD_W_ABS, k: argLow(0), label: 'selfCheck' },
    { code: JEQ_K, k: 0, jt: 'allow', jf: 'deny' },
  ];
  for (const [name, { kind }] of Object.entries(X86_64.selfOnlyByKind)) {
    checks.push(
      { code: LD_W_ABS, k: argLow(0), label: `${name}Check` },
      { code: JEQ_K, k: kind, jf: 'deny' },
      { code: LD_W_ABS, k: argLow(1) },
      { code: JEQ_K, k: 0, jt: 'allow', jf: 'deny' },
    );
  }
  return checks;
}

let cached: Buffer | undefined;

/** The filter as the bytes `bwrap --seccomp` reads, or undefined where it is not built (not x86-64). */
export function seccompFilter(): Buffer | undefined {
  if (process.arch !== 'x64') return undefined;
  const to = (nrs: Record<string, number>, label: Label): Insn[] =>
    Object.values(nrs).map((nr) => ({ code: JEQ_K, k: nr, jt: label }));
  cached ??= assemble([
    { code: LD_W_ABS, k: OFFSET_ARCH },
    { code: JEQ_K, k: AUDIT_ARCH_X86_64, jf: 'kill' },
    { code: LD_W_ABS, k: OFFSET_NR },
    { code: JGE_K, k: X32_SYSCALL_BIT, jt: 'kill' },
    { code: JEQ_K, k: X86_64.clone3, jt: 'enosys' },
    { code: JEQ_K, k: X86_64.clone, jt: 'cloneCheck' },
    { code: JEQ_K, k: X86_64.socket, jt: 'familyCheck' },
    { code: JEQ_K, k: X86_64.socketpair, jt: 'familyCheck' },
    ...to(X86_64.selfOnly, 'selfCheck'),
    ...Object.entries(X86_64.selfOnlyByKind).map(([name, { nr }]): Insn => ({
      code: JEQ_K,
      k: nr,
      jt: `${name}Check`,
    })),
    ...to(X86_64.unsupported, 'enosys'),
    ...to(X86_64.denied, 'deny'),
    { code: RET_K, k: SECCOMP_RET_ALLOW },
    ...argumentChecks(),
    ...RETURNS,
  ]);
  return cached;
}
