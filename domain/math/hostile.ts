// Hostile inputs for the math verifier's time bound (issue 12 item 10): long, nested, repeated and whitespace-heavy
// texts, built deterministically (no randomness). Used by the fuzz test (tests/unit/math-time-bound.test.ts) and the
// `pathological` section of `npm run bench -- math`.

/** A hostile answer or completion with a name saying what it stresses. */
export interface HostileInput {
  readonly name: string;
  readonly text: string;
}

/** Tokens repeated to build long inputs: each stresses a different step (scanners, regexes, brace matching). */
const REPEATED_TOKENS: readonly string[] = [
  ' ',
  'word ',
  'x and ',
  '1 or ',
  '\\text{',
  '\\boxed{',
  '\\frac{',
  '\\sqrt[',
  '\\sqrt',
  '{',
  '}',
  '(',
  ')',
  '[',
  '\\{',
  '^{',
  '_{',
  '1,',
  '1.',
  '0',
  '9',
  ', ',
  '. ',
  '$',
  '\\$',
  '%',
  '\\%',
  '\\left(',
  '\\begin{',
  'st',
  '^{th} ',
  ' cm',
  ' square ',
  'per ',
  'a',
  'A',
  '(A)',
  '\\pm',
  '\\cup',
  '<',
  '\\le ',
  '=',
  ':',
  '|',
  '\\,',
  '\\ ',
  'the answer is ',
  '\\boxed 5 \n',
  'sqrt(',
  'pi ',
  '-',
  '+',
  '*',
  '/',
  '\\mathrm{',
  'e',
  'i',
  'infinity ',
  '12:00 ',
];

/** Inputs up to `size` characters: each repeated token alone, and framed between a value and a suffix. */
export function hostileAnswers(size: number): HostileInput[] {
  const inputs: HostileInput[] = [];
  for (const token of REPEATED_TOKENS) {
    const run = token.repeat(Math.max(1, Math.floor(size / token.length)));
    inputs.push({ name: `repeated ${JSON.stringify(token)}`, text: run });
    inputs.push({ name: `1 + repeated ${JSON.stringify(token)} + x and 2`, text: `1${run.slice(0, size - 9)}x and 2` });
  }
  inputs.push({ name: 'nested braces', text: '{'.repeat(size / 2) + 'x' + '}'.repeat(size / 2) });
  inputs.push({ name: 'nested \\frac', text: '\\frac{1}{'.repeat(size / 9) + '2' + '}'.repeat(size / 9) });
  inputs.push({ name: 'nested \\text', text: '\\text{'.repeat(size / 6) + 'cm' + '}'.repeat(size / 6) });
  inputs.push({ name: 'nested parentheses', text: '('.repeat(size / 2) + '1' + ')'.repeat(size / 2) });
  inputs.push({ name: 'nested sqrt(', text: 'sqrt('.repeat(size / 5) + '2' + ')'.repeat(size / 5) });
  // shapes that make the LaTeX parser backtrack exponentially (refused before parsing)
  for (const depth of [8, 12, 20]) {
    inputs.push({ name: `nested [1+ x${depth}`, text: '[1+'.repeat(depth) + '1' + ']'.repeat(depth) });
    inputs.push({ name: `nested (1+ missing operand x${depth}`, text: '(1+'.repeat(depth) + ')'.repeat(depth) });
    inputs.push({ name: `nested (- missing operand x${depth}`, text: '(-'.repeat(depth) + ')'.repeat(depth) });
    inputs.push({ name: `nested |x+ x${depth}`, text: '|x+'.repeat(depth) + '1' + '|'.repeat(depth) });
    inputs.push({ name: `nested \\sqrt[ x${depth}`, text: '\\sqrt['.repeat(depth) + '2' + ']{2}'.repeat(depth) });
  }
  inputs.push({ name: 'long sum', text: Array.from({ length: size / 4 }, (_, k) => `${k % 10}x`).join('+') });
  inputs.push({ name: 'long decimal', text: `1.${'0'.repeat(size - 3)}1` });
  inputs.push({ name: 'long digits with commas', text: '1,234'.repeat(size / 5) });
  inputs.push({ name: 'many relations', text: Array.from({ length: size / 3 }, () => 'x<').join('') + '1' });
  inputs.push({ name: 'many choices', text: '(A) and (C) '.repeat(size / 12) });
  inputs.push({ name: 'many boxes', text: Array.from({ length: size / 12 }, (_, k) => `\\boxed{${k}} `).join('') });
  inputs.push({ name: 'spaces then unit', text: `5${' '.repeat(size - 10)} cm^2` });
  inputs.push({ name: 'words then number', text: `${'the answer is maybe '.repeat(size / 20)}5` });
  return inputs;
}

/** Completions up to `size` characters (the rollout size limit): hostile text in the reasoning and in the final part. */
export function hostileCompletions(size: number): HostileInput[] {
  const completions: HostileInput[] = [];
  for (const answer of hostileAnswers(size)) {
    completions.push({ name: `final part: ${answer.name}`, text: `<think>short</think>${answer.text}` });
    completions.push({ name: `boxed: ${answer.name}`, text: `</think>\\boxed{${answer.text}}` });
    completions.push({ name: `answer phrase: ${answer.name}`, text: `</think>The answer is ${answer.text}` });
  }
  completions.push({
    name: 'long reasoning, then a box',
    text: `${'Let me think. '.repeat(size / 14)}</think>\\boxed{5}`,
  });
  return completions;
}
