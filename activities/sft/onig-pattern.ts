// Translation of the Oniguruma (Ruby syntax) patterns of Hugging Face tokenizer.json files into JavaScript `u`
// regular expressions with the same matches.
//
// The Rust `tokenizers` library compiles a Split pre-tokenizer's `Regex` (and ByteLevel's built-in GPT-2 pattern)
// with Oniguruma. Most of the syntax reads the same in JavaScript; these constructs differ and are rewritten:
//   \s \S   Oniguruma: Unicode White_Space (includes U+0085, excludes U+FEFF); JavaScript's \s is the other way round
//   \d \D   Oniguruma: any decimal digit (\p{Nd}); JavaScript's \d is ASCII only
//   .       Oniguruma (Ruby): anything but \n; JavaScript also excludes \r, U+2028 and U+2029
//   ^ $     Ruby: start / end of a line (\n only); JavaScript without the m flag: of the input
//   \A \z   start / end of the input
//   \x{..}  code point escape, JavaScript \u{..}
//   { }     a brace that is not a quantifier is a literal in Oniguruma and a syntax error in JavaScript `u` mode
// `(?i:...)` over literal letters (the contractions) is spelled out as classes of case variants; other `(?i:...)`
// groups are kept (Node 24 has regexp modifiers). JavaScript folds case with simple (one-to-one) folding and
// Oniguruma also applies multi-character folds (ß ~ ss); the two agree for patterns whose case-insensitive parts are
// short literals that no multi-character fold can produce (the contractions of the GPT-2 and Qwen patterns).
// Anything else that may mean something different (\w \b \h \R \X \K \G, back-references, atomic groups, possessive
// quantifiers, inline options other than i, nested classes and class intersections, properties other than general
// categories) throws an UnsupportedPatternError instead of being guessed.

export class UnsupportedPatternError extends Error {
  constructor(pattern: string, at: number, what: string) {
    super(`unsupported Oniguruma construct at ${at} (${what}) in pattern ${JSON.stringify(pattern)}`);
    this.name = 'UnsupportedPatternError';
  }
}

const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn'.split(
    ' ',
  ),
);
/** Characters that JavaScript `u` mode lets (and, outside a class, makes) one escape. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\\n',
  r: '\\r',
  t: '\\t',
  f: '\\f',
  v: '\\v',
  a: '\\x07',
  e: '\\x1b',
  '0': '\\0',
};

/** The JavaScript source (for `new RegExp(source, 'gu')`) matching what Oniguruma matches with `pattern`. */
export function onigToJsSource(pattern: string): string {
  let out = '';
  let inClass = false;
  let i = 0;
  const fail = (what: string): never => {
    throw new UnsupportedPatternError(pattern, i, what);
  };
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      out += translateEscape(pattern, i, inClass, fail);
      i += escapeLength(pattern, i);
      continue;
    }
    if (inClass) {
      if (c === '[') fail('nested character class');
      if (c === '&' && pattern[i + 1] === '&') fail('class intersection');
      if (c === ']') inClass = false;
      out += c;
      i++;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        out += '[';
        i++;
        if (pattern[i] === '^') {
          out += '^';
          i++;
        }
        // A ']' first in a class is a literal in Oniguruma.
        if (pattern[i] === ']') {
          out += '\\]';
          i++;
        }
        continue;
      case '(': {
        const literal = caseInsensitiveLiterals(pattern.slice(i));
        if (literal) {
          out += literal.translated;
          i += literal.length;
          continue;
        }
        const opening = groupOpening(pattern.slice(i), fail);
        out += opening;
        i += opening.length;
        continue;
      }
      case '.':
        out += '[^\\n]';
        i++;
        continue;
      case '^':
        out += '(?<![^\\n])';
        i++;
        continue;
      case '$':
        out += '(?![^\\n])';
        i++;
        continue;
      case '*':
      case '+':
      case '?': {
        out += c;
        i++;
        const next = pattern[i];
        if (next === '+') fail('possessive quantifier');
        if (next === '?') {
          out += '?';
          i++;
        }
        continue;
      }
      case '{': {
        const quantifier = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (!quantifier) {
          out += '\\{';
          i++;
          continue;
        }
        out += quantifier[0];
        i += quantifier[0].length;
        if (pattern[i] === '+') fail('quantifier after an interval');
        if (pattern[i] === '?') {
          out += '?';
          i++;
        }
        continue;
      }
      case '}':
      case ']':
        out += `\\${c}`;
        i++;
        continue;
      default:
        out += c;
        i++;
    }
  }
  if (inClass) fail('unterminated character class');
  return out;
}

/** The case variants simple case folding gives an ASCII letter (ſ folds to s, the Kelvin sign to k). */
const CASE_VARIANTS: Record<string, string> = { s: 'sS\u017f', k: 'kK\u212a' };

/**
 * `(?i:...)` over literal text only (the contractions `(?i:'s|'t|'re|...)` of the GPT-2 and Qwen patterns), spelled
 * out as `(?:'[sSſ]|'[tT]|...)`, so the matches do not depend on the engine's handling of regexp modifiers; other
 * `(?i:` groups are kept as they are.
 */
function caseInsensitiveLiterals(rest: string): { translated: string; length: number } | undefined {
  const m = /^\(\?i:([A-Za-z'|]*)\)/.exec(rest);
  if (!m) return undefined;
  const body = [...m[1]!]
    .map((c) => {
      if (!/[A-Za-z]/.test(c)) return c;
      const lower = c.toLowerCase();
      return `[${CASE_VARIANTS[lower] ?? `${lower}${lower.toUpperCase()}`}]`;
    })
    .join('');
  return { translated: `(?:${body})`, length: m[0].length };
}

/** The opening of the group that starts `rest`, kept as it is: capturing, (?:, (?i:, lookaround or named. */
function groupOpening(rest: string, fail: (what: string) => never): string {
  const opening = /^\((?:\?(?:i?:|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>))?/.exec(rest)?.[0] ?? '(';
  if (opening === '(' && rest[1] === '?') fail(`group ${rest.slice(0, 3)}`);
  return opening;
}

function escapeLength(pattern: string, at: number): number {
  const c = pattern[at + 1];
  if ((c === 'p' || c === 'P') && pattern[at + 2] === '{') return pattern.indexOf('}', at) - at + 1;
  if (c === 'x' && pattern[at + 2] === '{') return pattern.indexOf('}', at) - at + 1;
  if (c === 'x') return 4;
  if (c === 'u') return 6;
  return c === undefined ? 1 : 1 + String.fromCodePoint(c.codePointAt(0) ?? 0).length;
}

function translateEscape(pattern: string, at: number, inClass: boolean, fail: (what: string) => never): string {
  const c = pattern[at + 1];
  if (c === undefined) return fail('trailing backslash');
  switch (c) {
    case 's':
      return '\\p{White_Space}';
    case 'S':
      return '\\P{White_Space}';
    case 'd':
      return '\\p{Nd}';
    case 'D':
      return '\\P{Nd}';
    case 'A':
      return inClass ? fail('\\A in a class') : '^';
    case 'z':
      return inClass ? fail('\\z in a class') : '$';
    case 'p':
    case 'P': {
      if (pattern[at + 2] !== '{') return fail(`\\${c} without braces`);
      const end = pattern.indexOf('}', at);
      if (end < 0) return fail('unterminated property');
      let name = pattern.slice(at + 3, end);
      let negated = c === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      if (!GENERAL_CATEGORIES.has(name)) return fail(`property ${name} (only general categories are translated)`);
      return `\\${negated ? 'P' : 'p'}{${name}}`;
    }
    case 'x': {
      if (pattern[at + 2] === '{') {
        const hex = pattern.slice(at + 3, pattern.indexOf('}', at));
        if (!/^[0-9A-Fa-f]{1,6}$/.test(hex)) return fail(`\\x{${hex}}`);
        return `\\u{${hex}}`;
      }
      const hex = pattern.slice(at + 2, at + 4);
      return /^[0-9A-Fa-f]{2}$/.test(hex) ? `\\x${hex}` : fail(`\\x${hex}`);
    }
    case 'u': {
      const hex = pattern.slice(at + 2, at + 6);
      return /^[0-9A-Fa-f]{4}$/.test(hex) ? `\\u${hex}` : fail(`\\u${hex}`);
    }
  }
  if (c in SIMPLE_ESCAPES) {
    if (c === '0' && /[0-7]/.test(pattern[at + 2] ?? '')) return fail('octal escape');
    return SIMPLE_ESCAPES[c];
  }
  if (/[A-Za-z0-9]/.test(c)) return fail(`escape \\${c}`);
  // An escaped punctuation or other character stands for itself.
  const char = String.fromCodePoint(pattern.codePointAt(at + 1) ?? 0);
  if (JS_SYNTAX.has(char) || (inClass && char === '-')) return `\\${char}`;
  return char;
}
