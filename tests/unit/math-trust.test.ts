// Regression tests for issue 12 ("Rewards you can trust"), items 10-13: the math verifier's time bound, its false
// positives, its false negatives and the percent sign lost before scoring. Every case here failed before the fix.
// The scoring path is reproduced as activities/operations/self-play.ts runs it: `mathEqualDetailed(extractAnswer(
// completion), reference)`, and the vote as `majorityVoteOfCompletions`.
import {
  clearMathCaches,
  extractAnswer,
  majorityVote,
  majorityVoteOfCompletions,
  mathEqual,
  mathEqualDetailed,
  normalizeAnswer,
} from '../../domain/math';
import { MAX_COMPLETION_CHARS } from '../../domain/math/extract';
import { hostileAnswers, hostileCompletions } from '../../domain/math/hostile';
import { MAX_ANSWER_CHARS } from '../../domain/math/normalize';

type Pair = readonly [prediction: string, reference: string];

/** The verdict a rollout gets: extraction then comparison, as the self-play scorer does it. */
function scores(completion: string, reference: string): boolean {
  return mathEqualDetailed(extractAnswer(completion), reference).equal;
}

function expectEqual(pairs: readonly Pair[], expected: boolean, symmetric = true): void {
  for (const [prediction, reference] of pairs) {
    expect({ prediction, reference, equal: mathEqual(prediction, reference) }).toEqual({
      prediction,
      reference,
      equal: expected,
    });
    if (symmetric)
      expect({ prediction: reference, reference: prediction, equal: mathEqual(reference, prediction) }).toEqual({
        prediction: reference,
        reference: prediction,
        equal: expected,
      });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Item 10: bounded time

/**
 * A guard, not the target: the target (< 50 ms per call) is what `npm run bench -- math` measures and prints in its
 * `pathological` section. Tests check behaviour, so this bound only has to catch super-linear work (the inputs below
 * took 0.4 s to 129 s before the fix) with room for a loaded CI machine.
 */
const LIMIT_MS = 250;

/**
 * The fastest of up to five runs from cold caches: the least noisy figure on a shared machine (a garbage collection
 * or another process can stall any single run; the bound is on the work a call does).
 */
function coldMs(run: () => unknown): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 5; attempt++) {
    clearMathCaches();
    const started = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
    if (best < LIMIT_MS / 5) break;
  }
  return best;
}

describe('item 10: every call finishes in bounded time', () => {
  beforeAll(() => {
    mathEqual('\\frac{\\sqrt{2}}{2}', 'x'); // load the LaTeX parser once
  });

  it.each([
    ['100 kB of repeated words', () => extractAnswer(`The answer is ${'word '.repeat(20_000)}`)],
    ['100 kB of nested \\text{', () => mathEqual('\\text{'.repeat(17_000), '5')],
    ['100 kB of spaces', () => mathEqual(`1${' '.repeat(100_000)}x`, '1')],
    ['1 + 4,000 spaces + "x and 2"', () => mathEqual(`1${' '.repeat(4000)}x and 2`, '1,2')],
    ['4,000 spaces between a value and a unit', () => normalizeAnswer(`5${' '.repeat(4000)} cm^2`)],
    ['an ordinal-like run of spaces', () => normalizeAnswer(`1${' '.repeat(4000)}^`)],
    [
      'nested [1+ (the parser backtracks at every level)',
      () => mathEqual('[1+'.repeat(12) + '1' + ']'.repeat(12), '13'),
    ],
    ['nested (1+ with a missing operand', () => mathEqual('(1+'.repeat(16) + ')'.repeat(16), '1')],
    ['300 minus signs', () => mathEqual('-'.repeat(300) + '1', '1')],
    ['20 absolute-value bars', () => mathEqual('|'.repeat(20), '1')],
  ])(
    '%s',
    (_name, run) => {
      expect(coldMs(run)).toBeLessThan(LIMIT_MS);
    },
    60_000,
  );

  it(`fuzz: normalisation and comparison of hostile answers up to ${MAX_ANSWER_CHARS} characters and beyond`, () => {
    const slow: string[] = [];
    for (const size of [MAX_ANSWER_CHARS, 100_000]) {
      for (const { name, text } of hostileAnswers(size)) {
        for (const [what, run] of [
          ['normalize', () => normalizeAnswer(text)],
          ['vs 2', () => mathEqualDetailed(text, '2')],
          ['vs itself, cut', () => mathEqualDetailed(text.slice(0, 400), text.slice(0, 399))],
        ] as const) {
          const ms = coldMs(run);
          if (ms >= LIMIT_MS) slow.push(`${what} ${name} (${size}): ${ms.toFixed(1)} ms`);
        }
      }
    }
    expect(slow).toEqual([]);
  }, 300_000);

  it(`fuzz: extraction from hostile completions up to the rollout size limit (${MAX_COMPLETION_CHARS} characters)`, () => {
    const slow: string[] = [];
    for (const { name, text } of hostileCompletions(MAX_COMPLETION_CHARS - 40)) {
      const ms = coldMs(() => extractAnswer(text));
      if (ms >= LIMIT_MS) slow.push(`${name}: ${ms.toFixed(1)} ms`);
    }
    expect(slow).toEqual([]);
  }, 300_000);

  it('fuzz: a majority vote over 8 hostile answers', () => {
    const slow: string[] = [];
    for (const size of [300, 1000, MAX_ANSWER_CHARS]) {
      const answers = hostileAnswers(size).map((a, k) => a.text.slice(0, size - (k % 8)));
      for (let k = 0; k + 8 <= answers.length; k += 8) {
        const ms = coldMs(() => majorityVote(answers.slice(k, k + 8)));
        if (ms >= LIMIT_MS) slow.push(`answers ${k}..${k + 7} (${size}): ${ms.toFixed(1)} ms`);
      }
    }
    expect(slow).toEqual([]);
  }, 300_000);

  it('an answer longer than the cap is no answer, and is compared as a string only', () => {
    const long = `\\boxed{${'1+'.repeat(MAX_ANSWER_CHARS)}1}`;
    expect(extractAnswer(`</think>${long}`)).toBe('');
    expect(mathEqualDetailed('1+'.repeat(MAX_ANSWER_CHARS), '2')).toMatchObject({
      equal: false,
      timedOut: true,
      bound: 'input-size',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 11: false positives

describe('item 11: no false positives', () => {
  it('units on both sides must agree (converted within a dimension)', () => {
    expectEqual(
      [
        ['5 cm', '5 m'],
        ['5\\text{ cm}', '5\\text{ m}'],
        ['3 cm^2', '3 cm^3'],
        ['20\\text{ cm}^2', '20\\text{ cm}^3'],
        ['12 square feet', '12 cubic feet'],
        ['3 hours', '3 minutes'],
        ['45 min', '45 s'],
        ['3 kg', '3 g'],
        ['2 days', '2 weeks'],
        ['60 km/h', '60 m/s'],
      ],
      false,
    );
    expectEqual(
      [
        ['2 hours', '120 minutes'],
        ['1 km', '1000 m'],
        ['5 cm', '50 mm'],
        ['3 \\text{ hours}', '180 \\text{ min}'],
        ['1.5 h', '90 min'],
        ['2.5 \\text{ hours}', '150 \\text{ minutes}'],
        ['60 mph', '60 miles per hour'],
        ['5 \\text{ cm}^2', '5 cm^2'],
        ['5 cm', '5'], // a unit on one side only is ignored
      ],
      true,
    );
  });

  it('AM and PM are different times of day', () => {
    expectEqual(
      [
        ['9:00 AM', '9:00 PM'],
        ['9:00 \\text{ AM}', '9:00 \\text{ PM}'],
        ['12:00 AM', '12:00 PM'],
        ['7:30 p.m.', '7:30 a.m.'],
        ['2:30', '1:15'], // clock times are not ratios
      ],
      false,
    );
    expectEqual(
      [
        ['9:00 PM', '21:00'],
        ['7:30 p.m.', '19:30'],
        ['9 AM', '9:00'],
        ['10:30 AM', '10:30 a.m.'],
        ['12:15 AM', '0:15'],
      ],
      true,
    );
  });

  it('an answer naming two choices is not the single choice of the reference', () => {
    expectEqual(
      [
        ['(A) and (C)', 'A'],
        ['(A) and (C)', 'C'],
        ['(A), (C)', 'C'],
        ['A, C', 'A'],
        ['\\text{(B) or (D)}', 'B'],
        ['(A)(C)', 'A'],
        ['\\textbf{(A)} \\text{ and } \\textbf{(E)}', 'E'],
      ],
      false,
      false,
    );
    expectEqual(
      [
        ['(A) 12', 'A'],
        ['\\text{option C}', 'C'],
        ['(D) and (D)', 'D'],
      ],
      true,
      false,
    );
  });

  it('several different boxed answers are not one of them', () => {
    expect(scores('</think>It is \\boxed{3} or \\boxed{5}.', '5')).toBe(false);
    expect(scores('</think>It is \\boxed{3} or \\boxed{5}.', '3')).toBe(false);
    expect(scores('</think>\\boxed{1}, \\boxed{2}', '2')).toBe(false);
    expect(scores('</think>Either \\boxed{(A)} or \\boxed{(B)}', 'B')).toBe(false);
    // the same answer boxed twice (also written differently) is one answer
    expect(scores('</think>\\boxed{5}. So the answer is \\boxed{5}.', '5')).toBe(true);
    expect(scores('</think>\\boxed{\\frac12}, i.e. \\boxed{0.5}', '1/2')).toBe(true);
  });

  it('expressions are sampled at points of both signs', () => {
    expectEqual(
      [
        ['|x|', 'x'],
        ['\\sqrt{x^2}', 'x'],
        ['|x-1|', 'x-1'],
        ['\\frac{x^2}{|x|}', 'x'],
        ['|a|+|b|', 'a+b'],
        ['\\sqrt{x^2+2x+1}', 'x+1'],
      ],
      false,
    );
    expectEqual(
      [
        ['\\sqrt{x^2}', '|x|'],
        ['|x|^2', 'x^2'],
        ['\\ln(x^2)', '2\\ln x'], // equal where both are real
      ],
      true,
    );
  });

  it('the scoring path keeps the unit: a rollout boxing 5 cm fails against 5 m', () => {
    expect(scores('</think>\\boxed{5 \\text{ cm}}', '5 m')).toBe(false);
    expect(scores('</think>\\boxed{9:00 \\text{ AM}}', '9:00 PM')).toBe(false);
    expect(scores('</think>\\boxed{5 \\text{ cm}}', '5')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 12: false negatives

describe('item 12: no false negatives', () => {
  it('several boxes together form the answer', () => {
    expect(scores('</think>The roots are \\boxed{2} and \\boxed{3}.', '2, 3')).toBe(true);
    expect(scores('</think>The roots are \\boxed{2} and \\boxed{3}.', '\\{3,2\\}')).toBe(true);
    expect(scores('</think>\\boxed{x=1}, \\boxed{y=2}', '(1,2)')).toBe(true);
    expect(scores('</think>$\\boxed{-1}$, $\\boxed{\\frac{1}{2}}$ and $\\boxed{4}$', '\\{4, 0.5, -1\\}')).toBe(true);
  });

  it('an answer phrase ends where the sentence goes on', () => {
    expect(scores('the answer is 15, found after checking all cases', '15')).toBe(true);
    expect(scores('The final answer is 42, which matches the estimate', '42')).toBe(true);
    expect(scores('So the answer is 7 because of the symmetry.', '7')).toBe(true);
    expect(scores('the answer is 1, 2, and 3', '\\{1,2,3\\}')).toBe(true);
    expect(scores('the answer is x = 3 since the other root is negative', '3')).toBe(true);
  });

  it('the correct option / answer / choice is ...', () => {
    expect(scores('After checking each one, the correct option is (C)', 'C')).toBe(true);
    expect(scores('The correct answer is: D', 'D')).toBe(true);
    expect(scores('Hence the correct choice is B.', 'B')).toBe(true);
    expect(scores('Answer: 12', '12')).toBe(true);
  });

  it('an answer phrase inside the box', () => {
    expect(scores('\\boxed{\\text{The answer is } 5}', '5')).toBe(true);
    expect(scores('\\boxed{\\text{Answer: } 12}', '12')).toBe(true);
    expect(scores('\\boxed{\\text{Final answer: } \\frac{1}{2}}', '0.5')).toBe(true);
    expect(scores('\\boxed{\\text{The number of ways is } 56}', '56')).toBe(true);
  });

  it('an equation naming the quantity asked for has its value', () => {
    expectEqual(
      [
        ['f(2)=5', '5'],
        ['a+b=25', '25'],
        ['m+n=13', '13'],
        ['P(3) = \\frac{1}{4}', '0.25'],
        ['a^2+b^2=10', '10'],
      ],
      true,
    );
    expectEqual(
      [
        ['x+1=5', '5'], // an equation to solve, not a value
        ['2x=4', '4'],
        ['a+b=25', '26'],
      ],
      false,
    );
  });

  it('units after a closed form, plain-text maths, ratios and ordinals', () => {
    expectEqual(
      [
        ['16\\pi cm^2', '16\\pi'],
        ['16\\pi \\text{ cm}^2', '16\\pi'],
        ['8\\sqrt{2} cm', '8\\sqrt2'],
        ['sqrt(2)', '\\sqrt{2}'],
        ['pi/2', '\\frac{\\pi}{2}'],
        ['2*sqrt(3)', '2\\sqrt3'],
        ['3pi', '3\\pi'],
        ['2^(1/3)', '\\sqrt[3]{2}'],
        ['2:3', '\\frac{2}{3}'],
        ['4:6', '2:3'],
        ['2 : 3', '2/3'],
        ['1:2:3', '2:4:6'],
        ['12^{th}', '12'],
        ['21^{\\text{st}}', '21'],
        ['3rd', '3'],
      ],
      true,
    );
    expectEqual(
      [
        ['2:3', '3:2'],
        ['1:2:3', '1:2:4'],
      ],
      false,
    );
  });

  it('inequalities, "or", set-builder notation and set differences are sets of reals', () => {
    expectEqual(
      [
        ['-x>-1', 'x<1'],
        ['-x>-1', '(-\\infty,1)'],
        ['-2x\\ge 4', '(-\\infty,-2]'],
        ['2x+1>3', '(1,\\infty)'],
        ['3-x\\le 5', '[-2,\\infty)'],
        ['x<-1 \\text{ or } x>2', '(-\\infty,-1)\\cup(2,\\infty)'],
        ['x\\le 0 \\text{ or } x\\ge 3', '(-\\infty,0]\\cup[3,\\infty)'],
        ['\\{x \\mid x>2\\}', '(2,\\infty)'],
        ['\\{x : x \\neq 0\\}', '\\mathbb{R}\\setminus\\{0\\}'],
        ['\\mathbb{R}\\setminus\\{0\\}', '(-\\infty,0)\\cup(0,\\infty)'],
        ['x\\ne 3', '(-\\infty,3)\\cup(3,\\infty)'],
        ['\\mathbb{R}\\setminus\\{1,2\\}', '(-\\infty,1)\\cup(1,2)\\cup(2,\\infty)'],
        ['\\{x\\in\\mathbb{R} \\mid x < 1 \\text{ or } x > 4\\}', '(-\\infty,1)\\cup(4,\\infty)'],
        ['(-\\infty,1]\\cup(1,2)', '(-\\infty,2)'],
        ['\\mathbb{R} - \\{0\\}', 'x\\neq 0'],
        ['x<1 or x>4', '(4,\\infty)\\cup(-\\infty,1)'],
      ],
      true,
    );
    expectEqual(
      [
        ['-x>-1', 'x>1'],
        ['x<-1 \\text{ or } x>2', '(-\\infty,-1]\\cup(2,\\infty)'],
        ['\\mathbb{R}\\setminus\\{0\\}', '(-\\infty,0]\\cup(0,\\infty)'],
        ['\\mathbb{R}\\setminus\\{1\\}', '\\mathbb{R}\\setminus\\{2\\}'],
        ['\\{x \\mid x>2\\}', '[2,\\infty)'],
      ],
      false,
    );
  });

  it('\\pm inside a set, unions of finite sets', () => {
    expectEqual(
      [
        ['\\{\\pm 3\\}', '\\{3,-3\\}'],
        ['\\{1\\pm\\sqrt2\\}', '\\{1+\\sqrt2, 1-\\sqrt2\\}'],
        ['\\{\\pm1, \\pm2\\}', '\\{1,-1,2,-2\\}'],
        ['\\{1,2\\}\\cup\\{3\\}', '\\{1,2,3\\}'],
        ['\\{1\\}\\cup\\{2\\}\\cup\\{3\\}', '\\{3,2,1\\}'],
      ],
      true,
    );
    expectEqual(
      [
        ['\\{\\pm 3\\}', '\\{3\\}'],
        ['\\{1,2\\}\\cup\\{3\\}', '\\{1,2\\}'],
      ],
      false,
    );
  });

  it('inverse trigonometric functions are sampled inside their domain', () => {
    expectEqual(
      [
        ['\\arcsin x', '\\sin^{-1} x'],
        ['\\arccos(x)', '\\cos^{-1}x'],
        ['\\arcsin(2x)', '\\sin^{-1}(2x)'],
        ['\\arcsin x + \\arccos x', '\\frac{\\pi}{2}'],
      ],
      true,
    );
    expectEqual([['\\arcsin x', '\\arccos x']], false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 13: percent

describe('item 13: the percent sign survives extraction and voting', () => {
  it('scoring a rollout that boxes a percentage', () => {
    expect(mathEqual('50\\%', '0.5')).toBe(true);
    expect(scores('</think>So $\\boxed{50\\%}$.', '0.5')).toBe(true);
    expect(scores('</think>\\boxed{12.5\\%}', '\\frac18')).toBe(true);
    expect(scores('</think>The answer is 25 percent.', '\\frac14')).toBe(true);
    expect(scores('</think>\\boxed{0.3}', '30\\%')).toBe(true);
    expect(scores('</think>\\boxed{50\\%}', '0.05')).toBe(false);
    expect(extractAnswer('</think>\\boxed{50\\%}')).toBe('50\\%');
  });

  it('the vote puts 50% and 0.5 in one cluster', () => {
    expect(majorityVote(['50\\%', '0.5', '50\\%']).clusters.map((c) => c.size)).toEqual([3]);
    const vote = majorityVoteOfCompletions(['</think>\\boxed{0.5}', '</think>\\boxed{50\\%}', '</think>\\boxed{7}']);
    expect(vote.clusters.map((c) => c.size)).toEqual([2, 1]);
    expect(mathEqual(vote.winner, '50\\%')).toBe(true);
    // units stay apart in the vote
    expect(majorityVote(['5 cm', '5 m', '5 cm']).clusters.map((c) => c.size)).toEqual([2, 1]);
  });
});
