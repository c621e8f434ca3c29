// How the local model server turns chat messages into prompt tokens: the GGUF file's own chat template (rendered by
// node-llama-cpp's Jinja chat wrapper) when the file has one, otherwise a fixed template that every model can read.
//
// Fixed template: each message renders as `<|{role}|>\n{content}\n`, then the prompt ends with `<|assistant|>\n`;
// the model's BOS token is prepended when the model asks for one. Generation also stops at any role marker
// (`<|system|>`, `<|user|>`, …), which is not returned.
//
// GGUF template: `system` and `developer` messages become system messages, `user` and `tool` messages user messages,
// `assistant` messages model responses; the prompt ends where the template starts the assistant's turn. Message text
// is tokenized as plain text (a user writing `<|im_end|>` does not end the turn); only the template's own markers
// are special tokens. The template's stop triggers end generation: a trigger that starts with a control token (an
// end-of-turn marker) stops at that token, a plain-text trigger is a stop string.
import type { ChatHistoryItem, JinjaTemplateChatWrapper, LlamaModel, Token } from 'node-llama-cpp';
import type { NodeLlamaCpp } from './engine';

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];
const FIXED_TEMPLATE_STOPS = CHAT_ROLES.map((r) => `<|${r}|>`);

export interface ChatMessageInput {
  role: string;
  content?: string | null | ReadonlyArray<{ text: string }>;
}

/** A chat prompt ready for generation. */
export interface ChatPrompt {
  tokens: Token[];
  /** Stop strings the template adds (removed from the text like a request's own stop strings). */
  stop: string[];
  /** Tokens that end the turn like EOS (not returned). */
  stopTokens: Token[];
}

function contentText(content: ChatMessageInput['content']): string {
  return typeof content === 'string' ? content : (content ?? []).map((p) => p.text).join('');
}

/** The fixed chat template (see the header comment). */
export function renderChatPrompt(messages: readonly ChatMessageInput[]): string {
  let out = '';
  for (const m of messages) out += `<|${m.role}|>\n${contentText(m.content)}\n`;
  return `${out}<|assistant|>\n`;
}

/** Which template a server uses: the GGUF's own when it has one (`auto`), or always the fixed one. */
export type ChatTemplateChoice = 'auto' | 'fixed';

export class ChatTemplate {
  private constructor(
    private readonly model: LlamaModel,
    /** null: the fixed template. */
    private readonly wrapper: JinjaTemplateChatWrapper | null,
  ) {}

  /**
   * The template for `model`. A GGUF template that node-llama-cpp cannot load falls back to the fixed template,
   * with a line to `log`.
   */
  static for(
    llamaCpp: NodeLlamaCpp,
    model: LlamaModel,
    choice: ChatTemplateChoice,
    log: (line: string) => void,
  ): ChatTemplate {
    const metadata = model.fileInfo.metadata as { tokenizer?: { chat_template?: unknown } };
    const template = metadata.tokenizer?.chat_template;
    if (choice === 'fixed' || typeof template !== 'string' || template.trim() === '')
      return new ChatTemplate(model, null);
    try {
      return new ChatTemplate(model, new llamaCpp.JinjaTemplateChatWrapper({ template }));
    } catch (err) {
      log(`the model's chat template cannot be used (${(err as Error).message}); using the fixed template`);
      return new ChatTemplate(model, null);
    }
  }

  /** 'gguf' when the model's own template is used, 'fixed' otherwise. */
  get kind(): 'gguf' | 'fixed' {
    return this.wrapper ? 'gguf' : 'fixed';
  }

  render(messages: readonly ChatMessageInput[]): ChatPrompt {
    if (!this.wrapper) {
      const tokens = this.model.tokenize(renderChatPrompt(messages), false);
      return { tokens: this.withBos(tokens), stop: [...FIXED_TEMPLATE_STOPS], stopTokens: [] };
    }
    const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
      const text = contentText(m.content);
      if (m.role === 'assistant') return { type: 'model', response: [text] };
      if (m.role === 'system' || m.role === 'developer') return { type: 'system', text };
      return { type: 'user', text };
    });
    history.push({ type: 'model', response: [] });
    const state = this.wrapper.generateContextState({ chatHistory: history });
    const tokens = this.withBos(state.contextText.tokenize(this.model.tokenizer));
    const stop: string[] = [];
    const stopTokens = new Set<Token>();
    for (const trigger of state.stopGenerationTriggers) {
      const triggerTokens = trigger.tokenize(this.model.tokenizer);
      const first = triggerTokens[0];
      if (first === undefined) continue;
      if (this.model.isEogToken(first) || this.model.getTokenAttributes(first).control) stopTokens.add(first);
      else if (trigger.values.every((v) => typeof v === 'string')) stop.push(trigger.values.join(''));
    }
    return { tokens, stop: stop.filter((s) => s !== ''), stopTokens: [...stopTokens] };
  }

  private withBos(tokens: Token[]): Token[] {
    const bos = this.model.tokens.bos;
    if (!this.model.tokens.shouldPrependBosToken || bos === null || tokens[0] === bos) return tokens;
    return [bos, ...tokens];
  }
}
