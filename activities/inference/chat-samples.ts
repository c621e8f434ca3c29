// Chat samples with reproducible seeds: one request per seed (n = 1), through the endpoint of a role. Used by every
// operation that asks a chat model for several independent samples (self-play rewards and rollouts, SFT traces).
import { deriveSeed } from '../../domain/core/seeds';
import type { ModelRole } from '../../domain/core/roles';
import type { GenerationChoice, GenerationResult } from './client';
import type { InferencePool } from './pool';

/**
 * A chat answer as one text: thinking returned apart (a reasoning parser, which splits the raw output at
 * `</think>` and keeps both sides as they are) goes back inside `<think>` tags, as the model wrote it:
 * `<think>\n` + reasoning + `</think>` + content, with no newlines of our own (fix_qwq_completion's shape).
 */
export function completionText(choice: GenerationChoice): string {
  return choice.reasoning !== undefined
    ? `<think>\n${choice.reasoning.replace(/^\s+/, '')}</think>${choice.text}`
    : choice.text;
}

export interface ChatSample {
  seed: number;
  /** The answer as one text (completionText). */
  text: string;
  /** The content and the separately returned thinking, as the server sent them. */
  content: string;
  reasoning?: string;
  finishReason: string | null;
  model: string;
  usage: GenerationResult['usage'];
}

/**
 * One chat request per seed (n = 1 each, so every sample has a reproducible seed of its own) with `content` as the
 * user message, through the endpoint of a role; samples come back in the order of `seeds`.
 */
export function chatSamples(
  pool: InferencePool,
  who: { role: ModelRole; model?: string; endpoint?: string },
  content: string,
  seeds: readonly number[],
  sampling: { temperature: number; maxTokens: number; topP?: number; extra?: Record<string, unknown> },
  signal: AbortSignal,
): Promise<ChatSample[]> {
  const { client, model } = pool.forRole(who.role, who.endpoint);
  return Promise.all(
    seeds.map(async (seed) => {
      const response = await client.chat(
        {
          messages: [{ role: 'user', content }],
          model: who.model ?? model,
          temperature: sampling.temperature,
          ...(sampling.topP !== undefined ? { topP: sampling.topP } : {}),
          maxTokens: sampling.maxTokens,
          seed,
          n: 1,
          ...(sampling.extra ? { extra: sampling.extra } : {}),
        },
        { signal },
      );
      const choice = response.choices[0];
      return {
        seed,
        text: choice ? completionText(choice) : '',
        content: choice?.text ?? '',
        ...(choice?.reasoning !== undefined ? { reasoning: choice.reasoning } : {}),
        finishReason: choice?.finishReason ?? null,
        model: response.model,
        usage: response.usage,
      };
    }),
  );
}

/** `n` seeds derived from the run seed and a key: deriveSeed(runSeed, key, first), …, deriveSeed(runSeed, key, first + n - 1). */
export function seedsFor(runSeed: number, key: string, n: number, first = 0): number[] {
  return Array.from({ length: n }, (_, i) => deriveSeed(runSeed, key, first + i));
}
