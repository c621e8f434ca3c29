// Math answer checking on the published evaluation sets (AIME 2024, AIME 2025, HMMT Feb 2025): each reference
// answer (after `####` in `reference_solution`) must equal itself written in other equivalent forms, generated
// programmatically, and must differ from every other problem's reference in the same file, except for pairs that
// are genuinely equal, which are listed explicitly below.
import { readFileSync } from 'node:fs';
import { benchmarkFile, type BenchmarkName } from '../../activities/eval/benchmark-files';
import { extractAnswer, extractAnswerDetailed, mathEqual, mathEqualDetailed, normalizeAnswer } from '../../domain/math';

interface BenchmarkProblem {
  idx: number;
  prompt: string;
  reference_solution: string;
  source: string;
}

interface Benchmark {
  readonly name: BenchmarkName;
  readonly source: string;
  /** Pairs of problem indexes whose references are genuinely the same answer. */
  readonly genuinelyEqual: ReadonlyArray<readonly [number, number]>;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'aime24', source: 'aime2024', genuinelyEqual: [[27, 28]] }, // both 104
  { name: 'aime25', source: 'aime2025', genuinelyEqual: [] },
  { name: 'hmmt25', source: 'hmmt_feb_2025', genuinelyEqual: [] },
];

function loadProblems(name: BenchmarkName): BenchmarkProblem[] {
  return readFileSync(benchmarkFile(name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BenchmarkProblem);
}

/** The published reference: the text after `####`. */
function referenceAnswer(problem: BenchmarkProblem): string {
  const parts = problem.reference_solution.split('####');
  if (parts.length !== 2) throw new Error(`problem ${problem.idx}: no single #### in reference_solution`);
  return parts[1].trim();
}

/** The reference wrapped as the final answer of a fake reasoning trace (with a decoy box in the thinking). */
function inFakeReasoning(answer: string): string {
  return [
    'Let me set up the problem carefully.',
    'A first attempt gives \\boxed{999999}, but that ignores a case.',
    'Re-checking every case with the constraint $a \\neq 0$...',
    '</think>',
    '',
    'Combining the cases, we obtain the result.',
    '',
    `Therefore the answer is $\\boxed{${answer}}$.`,
  ].join('\n');
}

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS_WORDS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

function numberInWords(n: number): string {
  if (n < 20) return NUMBER_WORDS[n];
  if (n < 100) return TENS_WORDS[Math.floor(n / 10)] + (n % 10 === 0 ? '' : `-${NUMBER_WORDS[n % 10]}`);
  const hundreds = `${NUMBER_WORDS[Math.floor(n / 100)]} hundred`;
  return n % 100 === 0 ? hundreds : `${hundreds} ${numberInWords(n % 100)}`;
}

function withThousandsSeparators(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Variants of an integer reference. */
function integerVariants(text: string): string[] {
  const n = Number(text);
  const variants = [
    `${text}.0`,
    `0${text}`,
    `\\frac{${2 * n}}{2}`,
    `${text}\\text{ ways}`,
    `\\text{${text}}`,
    `${text}.`,
  ];
  if (Math.abs(n) >= 1000) variants.push(withThousandsSeparators(text), text.replace(/\B(?=(\d{3})+(?!\d))/g, '{,}'));
  if (n >= 0 && n < 1000) variants.push(numberInWords(n));
  if (n < 0) variants.push(`-(${text.slice(1)})`);
  return variants;
}

/** Variants of a fraction `\frac{a}{b}` with integer a, b. */
function fractionVariants(a: number, b: number): string[] {
  const g = (x: number, y: number): number => (y === 0 ? x : g(y, x % y));
  const k = g(Math.abs(a), Math.abs(b));
  const variants = [`${a}/${b}`, `\\dfrac{${a}}{${b}}`, `\\frac{${2 * a}}{${2 * b}}`, (a / b).toFixed(6)];
  if (k === 1 && Math.abs(a) > Math.abs(b)) variants.push(`${Math.trunc(a / b)}\\frac{${a % b}}{${b}}`);
  return variants;
}

/** Programmatic variants of a reference answer, as applicable to its form. */
function equivalentForms(reference: string): string[] {
  const forms = [
    inFakeReasoning(reference),
    `$${reference}$`,
    `\\(${reference}\\)`,
    reference.replace(/\s+/g, ''),
    ` ${reference} `,
  ];
  if (!reference.includes('=') && !reference.includes(',')) forms.push(`x = ${reference}`);
  if (reference.includes('\\frac'))
    forms.push(reference.replace(/\\frac/g, '\\dfrac'), reference.replace(/\\frac/g, '\\tfrac'));
  if (reference.includes('\\sqrt{')) forms.push(reference.replace(/\\sqrt\{([^{}]+)\}/g, '($1)^{\\frac{1}{2}}'));
  if (reference.includes('\\cdot')) forms.push(reference.replace(/\\cdot/g, '\\times'));
  if (reference.includes('^\\circ'))
    forms.push(
      reference.replace('^\\circ', ''),
      reference.replace('^\\circ', '^{\\circ}'),
      reference.replace('^\\circ', '°'),
    );
  if (/^-?\d+$/.test(reference)) forms.push(...integerVariants(reference));
  const fraction = /^\\frac\{(-?\d+)\}\{(\d+)\}$/.exec(reference);
  if (fraction) forms.push(...fractionVariants(Number(fraction[1]), Number(fraction[2])));
  const list = reference.split(/,\s*/);
  if (list.length > 1)
    forms.push([...list].reverse().join(', '), `\\{${list.join(', ')}\\}`, `x = ${list.join(' \\text{ or } x = ')}`);
  return forms;
}

describe.each(BENCHMARKS)('$source ($name)', ({ name, source, genuinelyEqual }) => {
  const problems = loadProblems(name);
  const references = problems.map(referenceAnswer);

  it('has 30 problems of the expected source, each with a non-empty reference', () => {
    expect(problems).toHaveLength(30);
    expect(new Set(problems.map((p) => p.source))).toEqual(new Set([source]));
    for (const reference of references) expect(normalizeAnswer(reference)).not.toBe('');
  });

  it.each(problems.map((p, k) => [p.idx, references[k]] as const))(
    'problem %i: reference %s equals its equivalent forms',
    (_idx, reference) => {
      for (const form of equivalentForms(reference)) {
        const predicted = form.includes('</think>') ? extractAnswer(form) : form;
        expect({ form, equal: mathEqual(predicted, reference) }).toEqual({ form, equal: true });
        expect({ form, equal: mathEqual(reference, predicted) }).toEqual({ form, equal: true });
      }
    },
  );

  it('each reference differs from every other reference in the file (except the listed equal pairs)', () => {
    const listed = new Set(genuinelyEqual.map(([a, b]) => `${a}:${b}`));
    const foundEqual: string[] = [];
    for (let a = 0; a < problems.length; a++) {
      for (let b = a + 1; b < problems.length; b++) {
        const verdict = mathEqualDetailed(references[a], references[b]);
        expect(verdict.timedOut).toBe(false);
        if (verdict.equal) foundEqual.push(`${problems[a].idx}:${problems[b].idx}`);
      }
    }
    expect(foundEqual.sort()).toEqual([...listed].sort());
  });

  it('the worked solution (text before ####) extracts to its own reference', () => {
    let boxed = 0;
    for (const [k, problem] of problems.entries()) {
      const solution = problem.reference_solution.split('####')[0];
      const extracted = extractAnswerDetailed(solution);
      if (extracted.source === 'boxed') boxed++;
      expect({ idx: problem.idx, equal: mathEqual(extracted.answer, references[k]) }).toEqual({
        idx: problem.idx,
        equal: true,
      });
    }
    // AIME 2024 solutions are prose (22 end in a `\boxed`/`\framebox`, the rest in "the answer is" or a last
    // number); the 2025 files hold only `\boxed{answer}`.
    expect(boxed).toBe(source === 'aime2024' ? 22 : 30);
  });
});
