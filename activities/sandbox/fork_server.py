# A pre-started Python interpreter that runs one program's tests by forking once per test (fast mode of the
# Python sandbox; see interpreter-pool.ts for the Node side and python-sandbox.ts for the sandbox itself).
#
# It runs inside the same bubblewrap sandbox as a fresh-per-test run (own PID/network/IPC namespaces,
# read-only root, tmpfs /scratch, unprivileged uid) and never runs untrusted code itself: it only compiles
# the program, then forks a child per test which sets the resource limits, points fds 0/1/2 at in-memory
# files (memfd) and executes the compiled program as __main__.
#
# Between tests it kills every other process of its uid (kill(-1)) and empties /scratch and /dev/shm, so a test cannot
# leave anything behind for the next one. It marks itself non-dumpable, so a test child (same uid) cannot
# ptrace it or open /proc/<pid>/fd or /mem. A child can still signal it (same uid); the Node side then sees
# the server vanish and re-runs that test in a fresh sandbox, so verdicts never depend on the mode.
#
# Protocol on fds 0/1 (pipes to the worker): a JSON header line, then `len` raw bytes.
#   -> {"op": "load", "len": n}  + program source      <- {"ok": true} | {"ok": false, "kind": "compile"|"crash", "error": s}
#   -> {"op": "run", "len": n, "cpuSec": c, "asBytes": a, "nproc": p, "fsize": f, "wallMs": w, "errCap": e}  + stdin
#   <- {"code": c, "wall": bool, "outLen": n, "errLen": m, "cpuMs": t, "timeMs": t, "clean": bool} + stdout + stderr
import builtins
import ctypes
import io
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
import types

sys.setrecursionlimit(50000)
if hasattr(sys, 'set_int_max_str_digits'):
    sys.set_int_max_str_digits(50000)
sys.argv = ['main.py']

PR_SET_DUMPABLE = 4
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

CTRL_IN = 0
CTRL_OUT = 1
SCRATCH = '/scratch'
SHM = '/dev/shm'
_buffer = bytearray()


def read_exact(n):
    global _buffer
    while len(_buffer) < n:
        chunk = os.read(CTRL_IN, max(65536, n - len(_buffer)))
        if not chunk:
            sys.exit(0)
        _buffer += chunk
    data = bytes(_buffer[:n])
    del _buffer[:n]
    return data


def read_message():
    global _buffer
    while b'\n' not in _buffer:
        chunk = os.read(CTRL_IN, 65536)
        if not chunk:
            sys.exit(0)
        _buffer += chunk
    i = _buffer.index(b'\n')
    header = json.loads(bytes(_buffer[:i]))
    del _buffer[:i + 1]
    return header, read_exact(header.get('len', 0))


def send(header, *payloads):
    data = json.dumps(header).encode() + b'\n' + b''.join(payloads)
    view = memoryview(data)
    while view:
        n = os.write(CTRL_OUT, view)
        view = view[n:]


def exit_status_of(exc):
    """What the interpreter would exit with for an uncaught SystemExit."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + '\n')
    except BaseException:
        pass
    return 1


def run_program(code):
    """Runs in the forked child: the program as __main__, then interpreter-like shutdown."""
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


def child(code, in_fd, out_fd, err_fd, limits):
    status = 1
    try:
        os.setsid()
        # the child is dumpable again (its own /proc/self/fd, /dev/stdin work); the server stays non-dumpable
        LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.closerange(3, 1 << 16)
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


def kill_others(deadline_s=2.0):
    """SIGKILLs every process of our uid but us (pid 1 of the namespace is never signalled); waits until gone."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return True
        except PermissionError:
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.0005)


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


def run_test(code, stdin_bytes, limits):
    in_fd = os.memfd_create('stdin')
    out_fd = os.memfd_create('stdout')
    err_fd = os.memfd_create('stderr')
    os.write(in_fd, stdin_bytes)
    os.lseek(in_fd, 0, os.SEEK_SET)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(code, in_fd, out_fd, err_fd, limits)
    os.close(in_fd)
    wall = False
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if not poller.poll(limits['wallMs']):
        wall = True
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    elapsed_ms = (time.monotonic() - started) * 1000
    os.close(pidfd)
    code_out = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    clean = kill_others()
    clean = wipe_scratch() and clean
    out_len = os.fstat(out_fd).st_size
    out = os.pread(out_fd, min(out_len, limits['fsize']), 0)
    err_len = os.fstat(err_fd).st_size
    err = os.pread(err_fd, min(err_len, limits['errCap']), 0)
    os.close(out_fd)
    os.close(err_fd)
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
    send({'code': code_out, 'wall': wall, 'outLen': len(out), 'errLen': len(err), 'cpuMs': round(cpu_ms, 3),
          'timeMs': round(elapsed_ms, 3), 'clean': clean}, out, err)


def main():
    os.chdir(SCRATCH)
    send({'ready': True, 'pid': os.getpid()})
    code = None
    while True:
        header, payload = read_message()
        op = header.get('op')
        if op == 'load':
            try:
                code = compile(payload.decode('utf-8'), 'main.py', 'exec')
                send({'ok': True})
            except (SyntaxError, ValueError) as exc:
                code = None
                send({'ok': False, 'kind': 'compile', 'error': type(exc).__name__ + ': ' + str(exc)})
            except BaseException as exc:
                code = None
                send({'ok': False, 'kind': 'crash', 'error': type(exc).__name__ + ': ' + str(exc)})
        elif op == 'run' and code is not None:
            run_test(code, payload, header)
        else:
            send({'ok': False, 'kind': 'protocol', 'error': 'unexpected op ' + repr(op)})


if __name__ == '__main__':
    main()
