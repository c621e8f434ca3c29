// One chat completion request per item (n samples), through the endpoint bound to a model role.
import { z } from 'zod';
import { ChatCompletionParamsSchema, type ChatCompletionParams } from '../../domain/registry/operations';
import { deriveSeed } from '../../domain/core/seeds';
import { fieldProblems, formatPath } from '../../domain/core/validation';
import type { InferencePool } from '../inference/pool';
import { validateWith } from '../stage/validate';
import type { ItemOperation } from '../stage/operation';

const MessageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
const MessagesSchema = z.array(MessageSchema).min(1);

type Message = z.infer<typeof MessageSchema>;

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
  if (typeof prompt !== 'string' || prompt.trim() === '') return `field ${params.promptField}: expected a non-empty string`;
  const messages: Message[] = [];
  if (params.system !== undefined) messages.push({ role: 'system', content: params.system });
  messages.push({ role: 'user', content: prompt });
  return messages;
}

export function chatCompletionOperation(pool: InferencePool): ItemOperation<ChatCompletionParams> {
  return {
    parseParams: (params) => validateWith(ChatCompletionParamsSchema, params ?? {}, 'params'),
    async run(item, params, ctx) {
      const messages = messagesOf(item, params);
      if (typeof messages === 'string') return { reject: messages };
      const { client, model } = pool.forRole(params.role);
      const s = params.sampling;
      const seed = deriveSeed(s.seed, ctx.sourceId);
      const response = await client.chat(
        { messages, model: params.model ?? model, n: s.n, seed, temperature: s.temperature, topP: s.topP, maxTokens: s.maxTokens, stop: s.stop },
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
  };
}
