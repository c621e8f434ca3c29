// LiveCodeBench's call-based mode (problems with starter code and a function name): each line of a test input is
// a JSON argument; the program's `Solution().<fn>(*args)` (or a top-level `<fn>`) is called and its result,
// tuples as lists, compared with the JSON of the expected output.

/** Python appended to the program: reads the arguments, calls the function, prints its result as JSON. */
export function callDriver(fnName: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fnName)) throw new Error(`fnName: not a Python identifier: ${JSON.stringify(fnName)}`);
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

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Compares the printed JSON result with the expected output (JSON, tuples as lists). */
export function compareCallResult(expected: string, actual: string): { ok: boolean; reason?: string } {
  let want: unknown;
  let got: unknown;
  try {
    want = JSON.parse(expected);
  } catch {
    return { ok: false, reason: `expected output is not JSON: ${expected.slice(0, 80)}` };
  }
  try {
    got = JSON.parse(actual);
  } catch {
    return { ok: false, reason: `result is not JSON: ${actual.slice(0, 80)}` };
  }
  return deepEqual(want, got) ? { ok: true } : { ok: false, reason: `expected ${JSON.stringify(want).slice(0, 80)} got ${JSON.stringify(got).slice(0, 80)}` };
}
