# A pre-started Python interpreter that runs one program's tests by forking once per test (fast mode of the
# Python sandbox; see interpreter-pool.ts for the Node side and bwrap.ts for the sandbox itself).
#
# It runs inside the same bubblewrap sandbox as a fresh-per-test run (own PID/network/IPC/UTS namespaces,
# read-only root, tmpfs /scratch, unprivileged uid, seccomp filter, cgroup where the host has one) and never runs
# untrusted code itself. (It is not the namespace's PID 1: bwrap's init is, so that the whole sandbox dies with
# the worker; a uid change clears the parent-death signal of anything that runs after setpriv.)
#
# Three kinds of process:
#  - the server (this process): never holds a program's text or a test's input. For each program it forks
#    a zygote and waits for it; when the zygote is gone it kills whatever is left, wipes /scratch and /dev/shm, and
#    is ready for the next program from a state that no program has touched.
#  - the zygote (one per program): reads and compiles that program, then for each test copies the input from the
#    control pipe into a memfd through one reused buffer that it zeroes afterwards, forks the test child, and sends
#    the output back with sendfile (memfd -> pipe, kernel side). So a test child (a fork of the zygote) holds its
#    own program's text and nothing of another program, and no other test's input or output. The zygote is a
#    child subreaper: everything a test leaves behind is reparented to it, killed and reaped before the next test.
#  - the test child: points fds 0/1/2 at the memfds, closes every other descriptor, sets the per-test rlimits and
#    executes the compiled program as __main__.
# A test child can still signal its zygote or the server (same uid). The server then exits (or is gone) and the
# Node side sees the sandbox gone and re-runs that test in a fresh sandbox, so verdicts never depend on the mode.
#
# Protocol, worker -> sandbox on fd 0: a 4-byte big-endian length, a JSON header of that length, then `len` raw
# bytes (exact reads, so the reader of a header never reads into the body meant for another process).
#   -> {"op": "load", "len": n} + program source       <- {"ok": true} | {"ok": false, "kind": "compile"|"crash", "error": s}
#   -> {"op": "run", "len": n, "cpuSec": c, "asBytes": a, "nproc": p, "fsize": f, "wallMs": w, "errCap": e} + stdin
#   <- {"code": c, "wall": bool, "outLen": n, "errLen": m, "cpuMs": t, "timeMs": t, "clean": bool} + stdout + stderr
#   -> {"op": "unload", "len": 0}                       <- {"unloaded": true, "clean": bool}
# Sandbox -> worker on fd 1: a JSON header line, then the payload its lengths announce.
import builtins
import ctypes
import io
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time
import traceback
import types

sys.setrecursionlimit(50000)
if hasattr(sys, 'set_int_max_str_digits'):
    sys.set_int_max_str_digits(50000)
sys.argv = ['main.py']

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

CTRL_IN = 0
CTRL_OUT = 1
SCRATCH = '/scratch'
SHM = '/dev/shm'
COPY_CHUNK = 1 << 16
UNLOADED = 0
# how CPython exits for SystemExit(code) when code does not fit a C long: silently, with status -1 (255)
EXIT_OVERFLOW = 255


def read_exact(n):
    """Exactly n bytes from the control pipe (small messages only: headers and program text)."""
    parts = []
    while n > 0:
        chunk = os.read(CTRL_IN, n)
        if not chunk:
            os._exit(0)
        parts.append(chunk)
        n -= len(chunk)
    return b''.join(parts)


def read_header():
    (length,) = struct.unpack('>I', read_exact(4))
    return json.loads(read_exact(length))


def copy_input(dst_fd, n, buffer):
    """Moves n bytes from the control pipe to dst_fd through `buffer`, which is zeroed afterwards."""
    view = memoryview(buffer)
    used = 0
    try:
        while n > 0:
            got = os.readv(CTRL_IN, [view[:min(n, len(buffer))]])
            if got == 0:
                os._exit(0)
            used = max(used, got)
            written = 0
            while written < got:
                written += os.write(dst_fd, view[written:got])
            n -= got
    finally:
        view[:used] = bytes(used)
        view.release()


def send(header):
    data = json.dumps(header).encode() + b'\n'
    view = memoryview(data)
    while view:
        n = os.write(CTRL_OUT, view)
        view = view[n:]


def send_file(fd, length):
    offset = 0
    while offset < length:
        n = os.sendfile(CTRL_OUT, fd, offset, length - offset)
        if n == 0:
            break
        offset += n


def exit_status_of(exc):
    """What the interpreter exits with for an uncaught SystemExit."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        if not -(1 << 63) <= code < (1 << 63):
            return EXIT_OVERFLOW
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + '\n')
    except BaseException:
        pass
    return 1


def run_program(code):
    """Runs in the test child: the program as __main__, then interpreter-like shutdown."""
    status = 0
    main_module = types.ModuleType('__main__')
    main_module.__file__ = 'main.py'
    main_module.__builtins__ = builtins
    sys.modules['__main__'] = main_module
    try:
        exec(code, main_module.__dict__)
    except SystemExit as exc:
        status = exit_status_of(exc)
    except BaseException:
        etype, value, tb = sys.exc_info()
        traceback.print_exception(etype, value, tb.tb_next)  # without this file's own frame
        status = 1
    try:
        threading = sys.modules.get('threading')
        if threading is not None:
            threading._shutdown()
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        traceback.print_exc()
        status = status or 1
    try:
        sys.stdout.flush()
    except BaseException:
        traceback.print_exc()
        status = 120
    try:
        sys.stderr.flush()
    except BaseException:
        pass
    return status


def test_child(code, in_fd, out_fd, err_fd, limits):
    status = 1
    try:
        os.setsid()
        # the child is dumpable again (its own /proc/self/fd, /dev/stdin work); server and zygote stay non-dumpable
        LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        LIBC.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.closerange(3, 1 << 30)
        cpu = limits['cpuSec']
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits['asBytes'], limits['asBytes']))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits['nproc'], limits['nproc']))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits['fsize'], limits['fsize']))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'r', closefd=False)), encoding='utf-8')
        stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w', closefd=False)), encoding='utf-8')
        stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, 'w', closefd=False)), encoding='utf-8',
                                  errors='backslashreplace', line_buffering=True)
        sys.stdin = sys.__stdin__ = stdin
        sys.stdout = sys.__stdout__ = stdout
        sys.stderr = sys.__stderr__ = stderr
        status = run_program(code)
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    os._exit(status)


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_others(deadline_s=2.0):
    """The server's cleanup: SIGKILLs every process of our uid but us; True once all are gone."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            reap_children()
            return True
        reap_children()
        if time.monotonic() > end:
            return False
        time.sleep(0.0002)


def sandbox_pids():
    pids = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            pids.append(int(name))
    return pids


def has_children():
    """Whether the zygote has any child, zombie or not (reaping none)."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return True
    except ChildProcessError:
        return False


def kill_test_processes(server_pid, deadline_s=2.0):
    """The zygote's cleanup after a test: every process but us and the server is killed and reaped.

    The zygote is a child subreaper, so everything a test started is its descendant: with no child left there is
    nothing to clean (the common case costs one syscall). Otherwise kill(-1, SIGSTOP) stops them all at once (and
    the server, which is then continued), so nothing can fork while the survivors are listed and killed one by
    one. The server is always continued (a test may have stopped it). True once none is left.
    """
    if not has_children():
        resume(server_pid)
        return True
    me = os.getpid()
    end = time.monotonic() + deadline_s
    while True:
        try:
            os.kill(-1, signal.SIGSTOP)
        except (ProcessLookupError, PermissionError):
            pass
        others = [p for p in sandbox_pids() if p not in (me, server_pid, 1)]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        resume(server_pid)
        reap_children()
        if not [p for p in sandbox_pids() if p not in (me, server_pid, 1)]:
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.0002)


def resume(server_pid):
    try:
        os.kill(server_pid, signal.SIGCONT)
    except (ProcessLookupError, PermissionError):
        pass


def server_intact(server_pid):
    """The zygote's check that no test killed the server (same uid): it must still be our parent."""
    return os.getppid() == server_pid


def wipe_scratch():
    """Empties /scratch and /dev/shm (a test may have chmod-ed things); False when something could not be removed."""
    return wipe_dir(SCRATCH) and wipe_dir(SHM)


def wipe_dir(top):
    ok = True
    for entry in os.scandir(top):
        p = entry.path
        try:
            if entry.is_dir(follow_symlinks=False):
                for root, dirs, _files in os.walk(p):
                    for d in dirs:
                        try:
                            os.chmod(os.path.join(root, d), 0o700, follow_symlinks=False)
                        except OSError:
                            pass
                os.chmod(p, 0o700)
                shutil.rmtree(p)
            else:
                os.unlink(p)
        except OSError:
            ok = False
    try:
        os.chmod(top, 0o1777)
    except OSError:
        pass
    return ok


def run_test(code, header, buffer, server_pid):
    in_fd = os.memfd_create('stdin')
    out_fd = os.memfd_create('stdout')
    err_fd = os.memfd_create('stderr')
    copy_input(in_fd, header.get('len', 0), buffer)
    os.lseek(in_fd, 0, os.SEEK_SET)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        test_child(code, in_fd, out_fd, err_fd, header)
    os.close(in_fd)
    wall = False
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if not poller.poll(header['wallMs']):
        wall = True
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    # the output is what was written by the time the main process exited: later writes of leftovers are not taken
    out_len = min(os.fstat(out_fd).st_size, header['fsize'])
    err_len = min(os.fstat(err_fd).st_size, header['errCap'])
    elapsed_ms = (time.monotonic() - started) * 1000
    os.close(pidfd)
    code_out = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    clean = kill_test_processes(server_pid)
    if not server_intact(server_pid):
        # a test killed or stopped the server: the worker re-runs it in a fresh sandbox
        send({'lost': 'the test killed or stopped the fork server'})
        os._exit(3)
    clean = wipe_scratch() and clean
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
    send({'code': code_out, 'wall': wall, 'outLen': out_len, 'errLen': err_len, 'cpuMs': round(cpu_ms, 3),
          'timeMs': round(elapsed_ms, 3), 'clean': clean})
    send_file(out_fd, out_len)
    send_file(err_fd, err_len)
    os.close(out_fd)
    os.close(err_fd)


def zygote(source_len, server_pid):
    """One program's life: compile it, run its tests until unloaded, exit (its state dies with it)."""
    LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        code = compile(read_exact(source_len).decode('utf-8'), 'main.py', 'exec')
        send({'ok': True})
    except (SyntaxError, ValueError) as exc:
        send({'ok': False, 'kind': 'compile', 'error': type(exc).__name__ + ': ' + str(exc)})
        code = None
    except BaseException as exc:
        send({'ok': False, 'kind': 'crash', 'error': type(exc).__name__ + ': ' + str(exc)})
        code = None
    buffer = bytearray(COPY_CHUNK)
    while True:
        header = read_header()
        op = header.get('op')
        if op == 'run' and code is not None:
            run_test(code, header, buffer, server_pid)
        elif op == 'unload':
            os._exit(UNLOADED)
        else:
            send({'ok': False, 'kind': 'protocol', 'error': 'unexpected op ' + repr(op)})
            os._exit(UNLOADED)


def main():
    os.closerange(3, 1 << 30)
    os.chdir(SCRATCH)
    server_pid = os.getpid()
    send({'ready': True, 'pid': os.getpid()})
    while True:
        header = read_header()
        op = header.get('op')
        if op != 'load':
            send({'ok': False, 'kind': 'protocol', 'error': 'unexpected op ' + repr(op)})
            continue
        pid = os.fork()
        if pid == 0:
            try:
                zygote(header.get('len', 0), server_pid)
            finally:
                os._exit(3)
        while True:
            done, status = os.waitpid(pid, 0)
            if done == pid:
                break
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == UNLOADED):
            # the zygote was killed (by a test of its program) or crashed: the worker retires this sandbox
            sys.exit(3)
        clean = kill_others()
        clean = wipe_scratch() and clean
        send({'unloaded': True, 'clean': clean})


if __name__ == '__main__':
    main()
