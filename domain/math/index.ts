// Math answers: extraction, normalisation, equivalence, majority voting and the answer-dependent pair filters.
// Pure and deterministic (no I/O, no clocks, no randomness): usable from activities and workflows alike.
export {
  extractAnswer,
  extractAnswerDetailed,
  textAfterThink,
  lastBoxedContent,
  answerPhraseContent,
  lastNumber,
} from './extract';
export type { AnswerSource, ExtractedAnswer, ExtractOptions } from './extract';
export { normalizeAnswer, normalizeAnswerDetailed } from './normalize';
export type { NormalizedAnswer } from './normalize';
export { mathEqual, mathEqualDetailed, referenceChoiceLetter, predictionChoiceLetter } from './equal';
export type { MathEqualOptions, MathEqualResult, MathEqualMethod, PercentVariants } from './equal';
export { parseAnswerShape } from './answer-shape';
export type { AnswerShape } from './answer-shape';
export type { BoundKind } from './budget';
export { majorityVote, majorityVoteOfCompletions } from './vote';
export type { MajorityVote, VoteCluster } from './vote';
export { matchedPromptPattern, trivialAnswerReason, mathItemRejection, PROMPT_REJECTION_SUBSTRINGS } from './filters';
export type { MathItemRejection, TrivialAnswerReason } from './filters';
export { clearMathCaches } from './caches';
