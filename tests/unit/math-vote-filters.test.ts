// Majority voting over math answers (domain/math/vote.ts) and the answer-dependent pair filters
// (domain/math/filters.ts, spec §3.5 step 3).
import {
  PROMPT_REJECTION_SUBSTRINGS,
  majorityVote,
  majorityVoteOfCompletions,
  matchedPromptPattern,
  mathItemRejection,
  trivialAnswerReason,
} from '../../domain/math';

describe('majorityVote', () => {
  it('clusters equivalent answers and picks the largest cluster', () => {
    const vote = majorityVote(['5', '6', '\\frac{10}{2}', '6', '5.0', '7']);
    expect(vote.winner).toBe('5');
    expect(vote.winnerIndex).toBe(0);
    expect(vote.clusters).toEqual([
      { representative: '5', members: [0, 2, 4], size: 3 },
      { representative: '6', members: [1, 3], size: 2 },
      { representative: '7', members: [5], size: 1 },
    ]);
    expect(vote.agreement).toBe(0.5);
    expect(vote.validCount).toBe(6);
    expect(vote.total).toBe(6);
    expect(vote.boundHits).toBe(0);
  });

  it('breaks ties by first occurrence', () => {
    expect(majorityVote(['6', '5', '5', '6']).winner).toBe('6');
    expect(majorityVote(['5', '6', '6', '5']).winner).toBe('5');
    expect(majorityVote(['(1,2)', '[1,2]']).winner).toBe('(1,2)');
  });

  it('never lets empty or unextractable answers win (the published "" == "" bug)', () => {
    const vote = majorityVote(['', '', '', null, undefined, '\\boxed{}', '42']);
    expect(vote.winner).toBe('42');
    expect(vote.winnerIndex).toBe(6);
    expect(vote.clusters).toEqual([{ representative: '42', members: [6], size: 1 }]);
    expect(vote.validCount).toBe(1);
    expect(vote.agreement).toBeCloseTo(1 / 7, 12);
  });

  it('has no winner when nothing was extractable', () => {
    expect(majorityVote(['', '  ', null])).toEqual({
      winner: null,
      winnerIndex: null,
      clusters: [],
      agreement: 0,
      validCount: 0,
      total: 3,
      boundHits: 0,
    });
    expect(majorityVote([]).winner).toBeNull();
  });

  it('uses the full equivalence: forms, sets, intervals and equations', () => {
    expect(majorityVote(['\\{1,2\\}', '\\{2, 1\\}', '1,3', '2,1']).clusters.map((c) => c.size)).toEqual([3, 1]);
    expect(majorityVote(['[1,2)', '[1,2]', '\\left[1,2\\right)']).clusters.map((c) => c.size)).toEqual([2, 1]);
    expect(majorityVote(['y=2x+1', '2x+1=y', 'y=2x-1']).winner).toBe('y=2x+1');
    expect(
      majorityVote(['\\frac{\\sqrt2}{2}', '\\frac{1}{\\sqrt{2}}', '0.7071', '0.7']).clusters.map((c) => c.size),
    ).toEqual([3, 1]);
  });

  it('is deterministic: the same answers give the same result', () => {
    const answers = ['3', '\\frac{6}{2}', '4', '4', 'x', '3.0', '', '4.0'];
    expect(majorityVote(answers)).toEqual(majorityVote([...answers]));
    expect(majorityVote(answers).clusters.map((c) => c.size)).toEqual([3, 3, 1]);
    expect(majorityVote(answers).winner).toBe('3');
  });

  it('counts comparisons stopped by a bound and keeps those answers apart', () => {
    const vote = majorityVote(['9^{9^9}', '9^{9^9}+1', '9^{9^9}']);
    expect(vote.clusters.map((c) => c.size)).toEqual([2, 1]);
    expect(vote.boundHits).toBe(1);
  });
});

describe('majorityVoteOfCompletions', () => {
  const completions = [
    'Reasoning... maybe \\boxed{12}?\n</think>\nThe answer is $\\boxed{\\frac{1}{2}}$.',
    'Long reasoning \\boxed{3} ... </think> So $\\boxed{0.5}$.',
    'Working... </think> Final: \\boxed{\\dfrac{1}{2}}',
    'Only thinking, the box is here \\boxed{7}</think> and I stop without an answer.',
    'Truncated reasoning that never finishes and never boxes anything',
    '</think> \\boxed{7}',
  ];

  it('votes on the answers after </think>', () => {
    const vote = majorityVoteOfCompletions(completions);
    expect(vote.winner).toBe('\\frac{1}{2}');
    expect(vote.clusters).toEqual([
      { representative: '\\frac{1}{2}', members: [0, 1, 2], size: 3 },
      { representative: '7', members: [5], size: 1 },
    ]);
    expect(vote.validCount).toBe(4);
    expect(vote.agreement).toBe(0.5);
  });
});

/** The published rule, for contrast: substrings of the raw answer. */
function publishedNoSolution(answer: string): boolean {
  const lower = answer.toLowerCase();
  return lower.includes('none') || lower.includes('no');
}

describe('trivialAnswerReason', () => {
  it.each(['', '   ', '\\boxed{}', '\\text{}', '$ $'])('drops the empty answer %j', (answer) => {
    expect(trivialAnswerReason(answer)).toBe('empty');
  });

  it.each(['0', '1', '1.0', '\\text{1}', '01', '$0$', '\\boxed{1}', '0.00', 'one'])(
    'drops the answer %j as exactly 0 or 1',
    (answer) => {
      expect(trivialAnswerReason(answer)).toBe('zero-or-one');
    },
  );

  it.each(['No', '\\text{no solution}', 'None', 'There are no real roots', '\\text{None of these}', 'NO'])(
    'drops the no-solution answer %j',
    (answer) => {
      expect(trivialAnswerReason(answer)).toBe('no-solution');
      expect(publishedNoSolution(answer)).toBe(true);
    },
  );

  it.each([
    '\\binom{8}{3}',
    'x \\nonumber',
    '\\text{normal}',
    'unknown',
    'north',
    '\\text{nonempty}',
    'monotone',
    'x \\notin S',
    '\\text{Nov}',
    '\\text{Snow}',
    '\\dbinom{10}{2}',
  ])('keeps %j, which the published substring rule dropped', (answer) => {
    expect(publishedNoSolution(answer)).toBe(true);
    expect(trivialAnswerReason(answer)).toBeNull();
  });

  it.each(['56', '\\frac{1}{576}', '(1,2)', '-1', '2', '0.5', '10', '\\sqrt{2}', 'yes'])('keeps %j', (answer) => {
    expect(trivialAnswerReason(answer)).toBeNull();
  });
});

describe('matchedPromptPattern', () => {
  it.each(PROMPT_REJECTION_SUBSTRINGS.map((pattern) => [pattern]))('drops prompts containing %j', (pattern) => {
    const prompt = `Let f be a function satisfying ${pattern} the rest of the problem.`;
    expect(matchedPromptPattern(prompt)).toBe(pattern);
  });

  it.each(['Prove that n^2 + n is even.', 'Let n > 1. prove that 2^n > n.', 'PROVE THAT the sum is odd.'])(
    'drops proof prompts: %j',
    (prompt) => {
      expect(matchedPromptPattern(prompt)).toBe('prove that');
    },
  );

  it.each([
    'Find the number of positive integers n < 100 such that n^2 + 1 is prime.',
    'How much does the new design improve that ratio?',
    'Find all real x satisfying the following conditions: x > 0 and x^2 = 4.\nPlease reason step by step',
  ])('keeps %j', (prompt) => {
    expect(matchedPromptPattern(prompt)).toBeNull();
  });
});

describe('mathItemRejection', () => {
  it('reports the prompt pattern first, then a trivial answer, else keeps the item', () => {
    expect(mathItemRejection({ prompt: 'Prove that 2 is prime.', answer: '0' })).toEqual({
      reason: 'prompt-pattern',
      pattern: 'prove that',
    });
    expect(mathItemRejection({ prompt: 'Compute 3-2.', answer: '1' })).toEqual({
      reason: 'trivial-answer',
      detail: 'zero-or-one',
    });
    expect(mathItemRejection({ prompt: 'Find x.', answer: null })).toEqual({
      reason: 'trivial-answer',
      detail: 'empty',
    });
    expect(mathItemRejection({ prompt: 'Does a solution exist?', answer: '\\text{No}' })).toEqual({
      reason: 'trivial-answer',
      detail: 'no-solution',
    });
    expect(mathItemRejection({ prompt: 'Compute \\binom{8}{3}.', answer: '\\binom{8}{3}' })).toBeNull();
    expect(mathItemRejection({ prompt: 'Compute 7 * 8.', answer: '56' })).toBeNull();
  });
});
