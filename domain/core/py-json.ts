// JSON read the way Python's json.loads reads it, for comparisons that must agree with the published Python scripts:
// integer literals stay exact (PyInt, their digits), literals with a fraction or exponent are floats (doubles, 1e400 → Infinity),
// and NaN, Infinity and -Infinity are accepted. Otherwise strict JSON as Python has it: whitespace is space, tab,
// CR and LF; no control characters inside strings; a repeated object key keeps its last value; nothing but
// whitespace after the value. Linear time; pure (the workflow bundle may import it).

export type PyJson = null | boolean | PyInt | PyFloat | string | PyJson[] | { [key: string]: PyJson };

/** A Python int: its decimal digits, normalised (no leading zeros, `0` for zero, `-` for negatives). */
export class PyInt {
  constructor(readonly text: string) {}
  toBigInt(): bigint {
    return BigInt(this.text);
  }
}

/** A Python float (kept apart from ints, which are bigint). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export class PyJsonError extends Error {
  override name = 'PyJsonError';
}

const WS = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const DIGIT = (c: number) => c >= 48 && c <= 57;

export function parsePyJson(text: string): PyJson {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new PyJsonError(`${what} at char ${i}`);
  };
  const skip = () => {
    while (i < n && WS(text.charCodeAt(i))) i++;
  };
  // iterative over containers, so deep nesting cannot overflow the stack
  const stack: Array<
    { kind: 'array'; value: PyJson[] } | { kind: 'object'; value: Record<string, PyJson>; key: string }
  > = [];

  function parseString(): string {
    // text[i] is the opening quote
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('Unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 32) fail('Invalid control character');
      if (c !== 92) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === undefined) fail('Unterminated string');
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (e! in simple) {
        out += simple[e!];
        i += 2;
      } else if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else fail('Invalid \\escape');
      start = i;
    }
  }

  function parseNumber(): PyJson {
    const start = i;
    if (text[i] === '-') i++;
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return new PyFloat(-Infinity);
    }
    if (text[i] === '0') i++;
    else if (i < n && DIGIT(text.charCodeAt(i))) while (i < n && DIGIT(text.charCodeAt(i))) i++;
    else {
      i = start;
      fail('Expecting value');
    }
    const intEnd = i;
    let float = false;
    if (text[i] === '.' && DIGIT(text.charCodeAt(i + 1))) {
      i++;
      while (i < n && DIGIT(text.charCodeAt(i))) i++;
      float = true;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      let j = i + 1;
      if (text[j] === '+' || text[j] === '-') j++;
      if (DIGIT(text.charCodeAt(j))) {
        while (j < n && DIGIT(text.charCodeAt(j))) j++;
        i = j;
        float = true;
      }
    }
    // like Python's scanner, a '.' or 'e' not followed by digits ends the number (and the rest is then extra data)
    if (float) return new PyFloat(Number(text.slice(start, i)));
    const literal = text.slice(start, intEnd);
    return new PyInt(literal === '-0' ? '0' : literal);
  }

  function parseScalar(): PyJson | typeof OPEN {
    const c = text[i];
    if (c === '"') return parseString();
    if (c === '{' || c === '[') return OPEN;
    if (c === 'n' && text.startsWith('null', i)) return ((i += 4), null);
    if (c === 't' && text.startsWith('true', i)) return ((i += 4), true);
    if (c === 'f' && text.startsWith('false', i)) return ((i += 5), false);
    if (c === 'N' && text.startsWith('NaN', i)) return ((i += 3), new PyFloat(NaN));
    if (c === 'I' && text.startsWith('Infinity', i)) return ((i += 8), new PyFloat(Infinity));
    return parseNumber();
  }

  let result: PyJson | undefined;
  let done = false;
  skip();
  // each turn reads one value (or opens a container) and then closes what it can
  while (!done) {
    if (i >= n) fail('Expecting value');
    let value: PyJson;
    const scalar = parseScalar();
    if (scalar === OPEN) {
      const open = text[i++];
      skip();
      if (open === '[') {
        if (text[i] === ']') {
          i++;
          value = [];
        } else {
          stack.push({ kind: 'array', value: [] });
          continue;
        }
      } else {
        if (text[i] === '}') {
          i++;
          value = {};
        } else {
          if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
          const key = parseString();
          skip();
          if (text[i] !== ':') fail("Expecting ':' delimiter");
          i++;
          skip();
          stack.push({ kind: 'object', value: Object.create(null) as Record<string, PyJson>, key });
          continue;
        }
      }
    } else value = scalar;
    // hand the value to its container, closing containers that end here
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        result = value;
        done = true;
        break;
      }
      if (top.kind === 'array') top.value.push(value);
      else defineKey(top.value, top.key, value);
      skip();
      const c = text[i];
      if (c === ',') {
        i++;
        skip();
        if (top.kind === 'object') {
          if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
          top.key = parseString();
          skip();
          if (text[i] !== ':') fail("Expecting ':' delimiter");
          i++;
          skip();
        }
        break;
      }
      if ((top.kind === 'array' && c === ']') || (top.kind === 'object' && c === '}')) {
        i++;
        stack.pop();
        value = top.value;
        continue;
      }
      fail(top.kind === 'array' ? "Expecting ',' delimiter" : "Expecting ',' delimiter");
    }
  }
  skip();
  if (i !== n) fail('Extra data');
  return result!;
}

const OPEN = Symbol('open');

function defineKey(target: Record<string, PyJson>, key: string, value: PyJson): void {
  // `__proto__` and friends are ordinary keys here (the object has no prototype)
  target[key] = value;
}

/** Python's `float == int`: exact (the double's own value, all its digits); NaN and infinities equal no int. */
function floatEqualsInt(f: number, i: string): boolean {
  if (!Number.isFinite(f) || !Number.isInteger(f)) return false;
  return BigInt(f).toString() === i;
}

function numeric(v: PyJson): { int: string } | { float: number } | undefined {
  if (v instanceof PyInt) return { int: v.text };
  if (typeof v === 'boolean') return { int: v ? '1' : '0' }; // bool is an int subclass in Python: True == 1
  if (v instanceof PyFloat) return { float: v.value };
  return undefined;
}

/** Python `==` between two values json.loads gave (lists by element, dicts by key set and values). */
export function pyEquals(a: PyJson, b: PyJson): boolean {
  // containers of one walk: pairs still to compare
  const todo: Array<[PyJson, PyJson]> = [[a, b]];
  while (todo.length > 0) {
    const [x, y] = todo.pop()!;
    const nx = numeric(x);
    const ny = numeric(y);
    if (nx || ny) {
      if (!nx || !ny) return false;
      if ('int' in nx && 'int' in ny) {
        if (nx.int !== ny.int) return false;
      } else if ('float' in nx && 'float' in ny) {
        if (nx.float !== ny.float) return false;
      } else if ('int' in nx) {
        if (!floatEqualsInt((ny as { float: number }).float, nx.int)) return false;
      } else if (!floatEqualsInt(nx.float, (ny as { int: string }).int)) return false;
      continue;
    }
    if (x === null || y === null || typeof x === 'string' || typeof y === 'string') {
      if (x !== y) return false;
      continue;
    }
    if (Array.isArray(x) || Array.isArray(y)) {
      if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
      for (let k = 0; k < x.length; k++) todo.push([x[k]!, y[k]!]);
      continue;
    }
    const kx = Object.keys(x);
    const oy = y as Record<string, PyJson>;
    if (kx.length !== Object.keys(oy).length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(oy, k)) return false;
      todo.push([(x as Record<string, PyJson>)[k]!, oy[k]!]);
    }
  }
  return true;
}

/** A short display of a value, compact JSON (ints with all their digits, NaN, Infinity as Python writes them). */
export function showPyJson(v: PyJson, max = 80): string {
  let out = '';
  const write = (x: PyJson): boolean => {
    if (out.length > max) return false;
    if (x instanceof PyInt) out += x.text;
    else if (x instanceof PyFloat)
      out += Number.isNaN(x.value)
        ? 'NaN'
        : x.value === Infinity
          ? 'Infinity'
          : x.value === -Infinity
            ? '-Infinity'
            : JSON.stringify(x.value);
    else if (x === null || typeof x !== 'object') out += JSON.stringify(x);
    else if (Array.isArray(x)) {
      out += '[';
      x.every((e, k) => ((out += k > 0 ? ',' : ''), write(e)));
      out += ']';
    } else {
      out += '{';
      Object.keys(x).every((key, k) => ((out += `${k > 0 ? ',' : ''}${JSON.stringify(key)}:`), write(x[key]!)));
      out += '}';
    }
    return out.length <= max;
  };
  write(v);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
