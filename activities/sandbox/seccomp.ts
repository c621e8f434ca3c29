/**
 * A seccomp filter for the Python sandbox (handed to `bwrap --seccomp FD`, which installs it right before it runs
 * the sandboxed command), written as classic BPF so that no libseccomp is needed.
 *
 * It narrows the kernel surface a hostile program can reach; the namespaces, uid and rlimits of bwrap.ts remain
 * the main walls. x86-64 only (elsewhere no filter is installed and `seccompFilter()` returns undefined):
 *  - any other syscall ABI (32-bit `int 0x80`, x32) kills the process;
 *  - `clone3` fails with ENOSYS (its flags sit in memory a filter cannot read; the C library then falls back
 *    to `clone`, whose flags it can), `clone` with any namespace flag and `unshare`/`setns` fail with EPERM: no
 *    new user namespace, so no "root" in one, so none of the kernel code that this would open;
 *  - debugging and cross-process memory access (ptrace, process_vm_readv/writev, perf_event_open), BPF,
 *    io_uring, userfaultfd, keyrings, module loading, kexec, mount/pivot_root/chroot, swap, reboot, syslog,
 *    accounting, quotas, personality and open_by_handle_at fail with EPERM.
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
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
// offsets in struct seccomp_data
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME */
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;

const X86_64 = {
  clone: 56,
  clone3: 435,
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
  } as Record<string, number>,
};

type Label = 'deny' | 'enosys' | 'kill' | 'cloneCheck';

interface Insn {
  code: number;
  k: number;
  /** jump targets by label (relative offsets are resolved at the end); undefined = fall through (0) */
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
      const offset = at.get(label)! - (i + 1);
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

let cached: Buffer | undefined;

/** The filter as the bytes `bwrap --seccomp` reads, or undefined where it is not built (not x86-64). */
export function seccompFilter(): Buffer | undefined {
  if (process.arch !== 'x64') return undefined;
  cached ??= assemble([
    { code: LD_W_ABS, k: OFFSET_ARCH },
    { code: JEQ_K, k: AUDIT_ARCH_X86_64, jf: 'kill' },
    { code: LD_W_ABS, k: OFFSET_NR },
    { code: JGE_K, k: X32_SYSCALL_BIT, jt: 'kill' },
    { code: JEQ_K, k: X86_64.clone3, jt: 'enosys' },
    { code: JEQ_K, k: X86_64.clone, jt: 'cloneCheck' },
    ...Object.values(X86_64.denied).map((nr): Insn => ({ code: JEQ_K, k: nr, jt: 'deny' })),
    { code: RET_K, k: SECCOMP_RET_ALLOW },
    { code: LD_W_ABS, k: OFFSET_ARG0_LOW, label: 'cloneCheck' },
    { code: JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: 'deny' },
    { code: RET_K, k: SECCOMP_RET_ALLOW },
    { code: RET_K, k: SECCOMP_RET_ERRNO | EPERM, label: 'deny' },
    { code: RET_K, k: SECCOMP_RET_ERRNO | ENOSYS, label: 'enosys' },
    { code: RET_K, k: SECCOMP_RET_KILL_PROCESS, label: 'kill' },
  ]);
  return cached;
}
