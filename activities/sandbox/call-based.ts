// LiveCodeBench's call-based mode (problems with starter code and a function name): each line of a test input is
// a JSON argument; the program's `Solution().<fn>(*args)` (or a top-level `<fn>`) is called and its result,
// tuples as lists, compared with the JSON of the expected output.
import { parsePyJson, pyEquals, showPyJson, type PyJson } from '../../domain/core/py-json';

/** Python appended to the program: reads the arguments, calls the function, prints its result as JSON. */
export function callDriver(fnName: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fnName))
    throw new Error(`fnName: not a Python identifier: ${JSON.stringify(fnName)}`);
  return `

import json as __json, sys as __sys
def __plain(x):
    if isinstance(x, (list, tuple)):
        return [__plain(v) for v in x]
    if isinstance(x, dict):
        return {k: __plain(v) for k, v in x.items()}
    return x
__args = [__json.loads(__l) for __l in __sys.stdin.read().split('\\n') if __l.strip() != '']
__fn = getattr(Solution(), ${JSON.stringify(fnName)}) if 'Solution' in globals() else globals()[${JSON.stringify(fnName)}]
__sys.stdout.write(__json.dumps(__plain(__fn(*__args))))
`;
}

/**
 * Compares the printed JSON result with the expected output (JSON, tuples as lists) as LiveCodeBench does in Python
 * (`prediction == json.loads(output)`): both sides are read as Python's json.loads reads them, so integers compare
 * exactly (2**60 + 1 is not 2**60), floats by their double value, an int and a float exactly (`3 == 3.0`), bools as
 * ints, NaN equal to nothing, and NaN / Infinity literals are accepted.
 */
export function compareCallResult(expected: string, actual: string): { ok: boolean; reason?: string } {
  let want: PyJson;
  let got: PyJson;
  try {
    want = parsePyJson(expected);
  } catch {
    return { ok: false, reason: `expected output is not JSON: ${expected.slice(0, 80)}` };
  }
  try {
    got = parsePyJson(actual);
  } catch {
    return { ok: false, reason: `result is not JSON: ${actual.slice(0, 80)}` };
  }
  return pyEquals(want, got)
    ? { ok: true }
    : { ok: false, reason: `expected ${showPyJson(want)} got ${showPyJson(got)}` };
}
