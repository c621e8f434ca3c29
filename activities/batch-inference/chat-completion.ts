// One chat completion request per item (n samples), through the endpoint bound to a model role.
import { z } from 'zod';
import {
  ChatCompletionOperation,
  ChatMessageSchema,
  type ChatCompletionParams,
  type ChatMessage,
} from '../../domain/batch-inference';
import { deriveSeed } from '../../domain/core/seeds';
import { fieldProblems, formatPath } from '../../domain/core/validation';
import { implement } from '../stage/operation';

const MessagesSchema = z.array(ChatMessageSchema).min(1);
type Message = ChatMessage;

function messagesOf(item: Record<string, unknown>, params: ChatCompletionParams): Message[] | string {
  if (item.messages !== undefined) {
    const parsed = MessagesSchema.safeParse(item.messages);
    if (!parsed.success) {
      const first = fieldProblems(parsed.error)[0]!;
      return `field ${formatPath(['messages', ...first.path])}: ${first.message}`;
    }
    return parsed.data;
  }
  const prompt = item[params.promptField];
  if (typeof prompt !== 'string' || prompt.trim() === '')
    return `field ${params.promptField}: expected a non-empty string`;
  const messages: Message[] = [];
  if (params.system !== undefined) messages.push({ role: 'system', content: params.system });
  messages.push({ role: 'user', content: prompt });
  return messages;
}

export const chatCompletion = implement(ChatCompletionOperation, {
  needs: ['pool'],
  async run(item, params, ctx, { pool }) {
    const messages = messagesOf(item, params);
    if (typeof messages === 'string') return { reject: messages };
    const { client, model } = pool.forRole(params.role);
    const s = params.sampling;
    const seed = deriveSeed(s.seed, ctx.sourceId);
    const response = await client.chat(
      {
        messages,
        model: params.model ?? model,
        n: s.n,
        seed,
        temperature: s.temperature,
        topP: s.topP,
        maxTokens: s.maxTokens,
        stop: s.stop,
      },
      { signal: ctx.signal },
    );
    const provenance = {
      stage: ctx.stage,
      sourceId: ctx.sourceId,
      role: params.role,
      model: response.model,
      sampling: { ...s, seed },
      attempt: ctx.attempt,
      requestAttempts: response.attempts,
      usage: response.usage,
    };
    return {
      rows: response.choices.map((choice, k) => ({
        id: `${ctx.sourceId}#${k}`,
        sourceId: ctx.sourceId,
        sample: k,
        messages,
        completion: choice.text,
        finishReason: choice.finishReason,
        provenance,
      })),
    };
  },
});
