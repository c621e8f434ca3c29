// Pair-construction filters of synthetic math problems that depend on the prompt and the answer (spec §3.5 step 3,
// applied to source "PromptCoT-Math" only).
//
// Prompt patterns: an item is dropped when its prompt contains one of the published substrings (proof-style or
// under-specified problems). "prove that" is matched case-insensitively as whole words (the published code tested
// "prove that" and "Prove that" as substrings, so "...improve that..." was dropped and "PROVE THAT" was not).
//
// Trivial answers: an item is dropped when its (normalised) answer is empty, is exactly "0" or "1", or says
// "none" / "no". The published rule tested `"none" in answer.lower() or "no" in answer.lower()` on the raw string,
// so any answer merely containing the letters n-o was dropped. FIX: the words are matched as whole words of the
// normalised answer, after LaTeX command names are removed. Examples:
//   dropped by both:        "No", "\text{no solution}", "None", "There are no real roots"
//   dropped only before:    "\binom{8}{3}" (b-i-n-o-m), "x \nonumber", "\text{normal}", "unknown", "north",
//                           "\text{nonempty}" (also contains n-o-n-e), "monotone", "x \notin S", "\text{Nov}"
//   kept by both:           "56", "\frac{1}{576}", "(1,2)"
// "Exactly 0 or 1" is also tested on the normalised answer, so "0.0", "x = 1", "\boxed{1}" and "one" count too.
// `utils.no_solution` in the reference code also checked "inf" but was never called; it is not applied here.
import { normalizeAnswerDetailed } from './normalize';

/** Substrings of a prompt that drop the item (spec §3.5 step 3), except "prove that", matched as words. */
export const PROMPT_REJECTION_SUBSTRINGS: readonly string[] = [
  'the following conditions:\nPlease reason step by step',
  'the following properties:\nPlease reason step by step',
  'solution to\nPlease reason step by step',
  'the following properties:\nFind',
];

const PROVE_THAT = /\bprove that\b/i;

/** The rejection pattern found in `prompt`, or null. */
export function matchedPromptPattern(prompt: string): string | null {
  for (const pattern of PROMPT_REJECTION_SUBSTRINGS) if (prompt.includes(pattern)) return pattern;
  return PROVE_THAT.test(prompt) ? 'prove that' : null;
}

export type TrivialAnswerReason = 'empty' | 'zero-or-one' | 'no-solution';

/** Words of the normalised answer: letter runs outside LaTeX command names, lower-cased. */
function answerWords(normalised: string): string[] {
  return normalised
    .replace(/\\[A-Za-z]+/g, ' ')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((word) => word !== '');
}

/** Why an answer is too trivial to train on, or null when it is fine. */
export function trivialAnswerReason(answer: string | null | undefined): TrivialAnswerReason | null {
  const { text: normalised, value } = normalizeAnswerDetailed(answer);
  if (normalised === '') return 'empty';
  // the value without a unit or percent sign (`1 cm`, as the published strip_string dropped units)
  if (value === '0' || value === '1') return 'zero-or-one';
  const words = answerWords(normalised);
  if (words.includes('no') || words.includes('none')) return 'no-solution';
  return null;
}

export type MathItemRejection =
  | { readonly reason: 'prompt-pattern'; readonly pattern: string }
  | { readonly reason: 'trivial-answer'; readonly detail: TrivialAnswerReason };

/** The answer-dependent filters of spec §3.5 step 3 for a synthetic math item; null when the item is kept. */
export function mathItemRejection(item: {
  readonly prompt: string;
  readonly answer: string | null | undefined;
}): MathItemRejection | null {
  const pattern = matchedPromptPattern(item.prompt);
  if (pattern !== null) return { reason: 'prompt-pattern', pattern };
  const trivial = trivialAnswerReason(item.answer);
  if (trivial !== null) return { reason: 'trivial-answer', detail: trivial };
  return null;
}
