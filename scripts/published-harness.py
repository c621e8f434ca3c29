# A re-creation, for `npm run bench -- sandbox`, of how the published PromptCoT 2.0 self-play evaluation runs
# code (spec §3.4: self_play_eval.py -> LiveCodeBench v5 `_temp_run` / `run_test`), written from its description:
#   - every test case is run separately: a fresh multiprocessing.Manager() (a server process) and a fresh
#     multiprocessing.Process per test, joined with a timeout and killed when still alive;
#   - inside the process: a trailing `if __name__ == "__main__":` block is replaced by its body, the program's
#     non-import statements are wrapped into `def wrapped_function()` behind a header of star imports and
#     sys.setrecursionlimit(50000), the module is exec-ed, stdin is replaced by a StringIO (so `sys.stdin.buffer`
#     does not exist, as in the published harness), stdout is captured, dangerous functions are disabled
#     ("reliability guard"), and the call is bounded by signal.alarm;
#   - the output is compared with LiveCodeBench's grade_stdio rules (strip, per-line exact match, else
#     whitespace-split Decimal comparison).
# Jobs come as JSON on stdin: {"timeoutSec": t, "workers": w, "jobs": [{"code": s, "input": s, "output": s}]};
# the verdicts (pass / wrong_answer / time_limit / runtime_error / compile_error) go to stdout as a JSON list.
import ast
import builtins
import faulthandler
import io
import json
import multiprocessing
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation

HEADER = (
    'import sys\nsys.setrecursionlimit(50000)\n'
    + ''.join('from %s import *\n' % m for m in (
        'string', 're', 'datetime', 'collections', 'heapq', 'bisect', 'copy', 'math', 'random',
        'statistics', 'itertools', 'functools', 'operator', 'io', 'typing'))
    + 'import string, re, datetime, collections, heapq, bisect, copy, math, random, statistics, itertools, '
      'functools, operator, io, json\n'
)


class Alarm(Exception):
    pass


def on_alarm(_signum, _frame):
    raise Alarm()


def unwrap_main_guard(tree):
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.If) and isinstance(last.test, ast.Compare) and ast.unparse(last.test).replace("'", '"') == '__name__ == "__main__"':
        tree.body = tree.body[:-1] + last.body
    return tree


def wrap_program(code):
    tree = unwrap_main_guard(ast.parse(code))
    imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    rest = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))] or [ast.Pass()]
    fn = ast.FunctionDef(name='wrapped_function', args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                         body=rest, decorator_list=[], returns=None)
    if 'type_params' in ast.FunctionDef._fields:
        fn.type_params = []
    module = ast.Module(body=imports + [fn], type_ignores=[])
    return HEADER + ast.unparse(ast.fix_missing_locations(module))


def reliability_guard():
    import os
    import shutil
    import subprocess
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ['OMP_NUM_THREADS'] = '1'
    for name in ('kill', 'system', 'putenv', 'remove', 'removedirs', 'rmdir', 'fchdir', 'setuid', 'fork', 'forkpty',
                 'killpg', 'rename', 'renames', 'truncate', 'replace', 'unlink', 'fchmod', 'fchown', 'chmod', 'chown',
                 'chroot', 'lchown', 'getcwd', 'chdir'):
        setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None


def lines_equal(expected_line, actual_line):
    if expected_line == actual_line:
        return True
    a, b = expected_line.split(), actual_line.split()
    if len(a) != len(b):
        return False
    try:
        return all(Decimal(x) == Decimal(y) for x, y in zip(a, b))
    except (InvalidOperation, ValueError):
        return False


def grade_stdio(actual, expected):
    got = [line.strip() for line in actual.strip().split('\n')]
    want = [line.strip() for line in expected.strip().split('\n')]
    return len(got) == len(want) and all(lines_equal(w, g) for w, g in zip(want, got))


def run_one(code, stdin_text, expected, timeout, results):
    """Body of the per-test process."""
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    try:
        source = wrap_program(code)
        namespace = {'__name__': 'tmp_sol'}
        exec(compile(source, 'tmp_sol', 'exec'), namespace)
        entry = namespace['wrapped_function']
    except Alarm:
        results.append('time_limit')
        return
    except BaseException:
        signal.alarm(0)
        results.append('compile_error')
        return
    reliability_guard()
    captured = io.StringIO()
    fake_stdin = io.StringIO(stdin_text)
    real_open = builtins.open

    def patched_open(*args, **kwargs):
        return fake_stdin

    sys.stdin, sys.stdout = fake_stdin, captured
    builtins.open = patched_open
    try:
        entry()
        verdict = None
    except Alarm:
        verdict = 'time_limit'
    except SystemExit:
        verdict = None
    except BaseException:
        verdict = 'runtime_error'
    finally:
        signal.alarm(0)
        builtins.open = real_open
        sys.stdout = sys.__stdout__
    if verdict is None:
        verdict = 'pass' if grade_stdio(captured.getvalue(), expected) else 'wrong_answer'
    results.append(verdict)


def evaluate(job, timeout):
    """The published _temp_run: a Manager and a Process for this single test."""
    manager = multiprocessing.Manager()
    try:
        results = manager.list()
        proc = multiprocessing.Process(target=run_one, args=(job['code'], job['input'], job['output'], timeout, results))
        proc.start()
        proc.join(timeout=(timeout + 1) + 5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        return results[0] if len(results) else 'time_limit'
    finally:
        manager.shutdown()


def main():
    request = json.load(sys.stdin)
    timeout = int(request.get('timeoutSec', 30))
    jobs = request['jobs']
    workers = int(request.get('workers', 1))
    if workers <= 1:
        verdicts = [evaluate(job, timeout) for job in jobs]
    else:
        with ThreadPoolExecutor(workers) as pool:
            verdicts = list(pool.map(lambda job: evaluate(job, timeout), jobs))
    json.dump(verdicts, sys.stdout)


if __name__ == '__main__':
    main()
