// Spec §3.5 steps 5–6: a rollout becomes a training response only in a valid shape. The completion is fixed first
// (`<think>\n` in front, as the chat template had put it in the prompt), then it must be one finished thinking
// block followed by an answer in the prompt's language that holds a final answer (math) or a program (code).
import { extractAnswer } from '../../domain/math';
import { fixThinkCompletion, splitTrace, type SelfPlayDomain, type TraceProblem } from '../../domain/self-play';
import { extractCode } from '../sandbox/extract-code';

export type RolloutProblem = TraceProblem | 'no-final-answer' | 'no-program';

export type RolloutValidity = { valid: true; response: string } | { valid: false; problem: RolloutProblem };

export function rolloutValidity(completion: string, domain: SelfPlayDomain): RolloutValidity {
  const response = fixThinkCompletion(completion);
  const trace = splitTrace(response);
  if (!trace.ok) return { valid: false, problem: trace.problem };
  if (domain === 'math' && extractAnswer(trace.answer) === '') return { valid: false, problem: 'no-final-answer' };
  if (domain === 'code' && !(extractCode(trace.answer) ?? '').trim()) return { valid: false, problem: 'no-program' };
  return { valid: true, response };
}
