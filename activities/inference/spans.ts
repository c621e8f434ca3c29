// Scoring log p(x | z, c) over character spans from an echoed /v1/completions answer
// (`echo: true, logprobs, max_tokens: 0`): align the echoed tokens with the prompt text, then sum per span.
//
// Rules:
// - Offsets are JavaScript string offsets (UTF-16 code units) into the text, spans are half-open [start, end).
// - A token belongs to a span when its start offset lies in [start, end); a token that starts inside a span but
//   runs past its end counts wholly for that span. An empty token (byte-level tokenizers: the leading bytes of a
//   multi-byte character, which decode to nothing yet) sits at the offset of the character it begins, so it counts
//   with that character: no log-probability mass is dropped (choose span edges on token boundaries — e.g.
//   at the start of a section of the prompt — for exact results).
// - The first prompt token has no log-prob (nothing precedes it): a null log-prob inside a span is an error, so a
//   span may start at offset 0 only when the server prepends a BOS token (whose log-prob is the null one).
// - The echoed tokens must reproduce the text exactly: their concatenation must equal the text, except that one
//   leading token not part of the text (a BOS such as "<s>" or "<|begin_of_text|>") is set aside, and tokens after
//   the text (a server that generated despite max_tokens 0) are ignored. Server text_offset values, when given,
//   must agree (as UTF-16 or as code-point offsets, after the BOS). Anything else (byte-level token strings,
//   normalised whitespace, a missing echo) is rejected with an error that says what differs.

export interface Span {
  start: number;
  end: number;
}

export interface ScoredToken {
  text: string;
  /** Offset of the token's first character in the text (UTF-16 code units). */
  offset: number;
  logprob: number | null;
}

export interface EchoLogprobs {
  tokens?: unknown;
  token_logprobs?: unknown;
  text_offset?: unknown;
}

export class SpanScoringError extends Error {
  override name = 'SpanScoringError';
}

function preview(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

function codePointOffsets(text: string): Int32Array {
  // cp[i] = number of code points before UTF-16 offset i
  const cp = new Int32Array(text.length + 1);
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    cp[i] = count;
    const c = text.charCodeAt(i);
    if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff))
      count++;
  }
  cp[text.length] = count;
  return cp;
}

interface Attempt {
  tokens: ScoredToken[];
  mismatch?: string;
}

function alignFrom(text: string, tokens: string[], logprobs: Array<number | null>, from: number): Attempt {
  const out: ScoredToken[] = [];
  let offset = 0;
  for (let i = from; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (offset === text.length && tok.length > 0) break; // generated tokens after the text
    if (!text.startsWith(tok, offset)) {
      return {
        tokens: out,
        mismatch: `token #${i} ${preview(tok)} does not match the text at offset ${offset} (${preview(text.slice(offset, offset + Math.max(tok.length, 8)))})`,
      };
    }
    out.push({ text: tok, offset, logprob: logprobs[i] ?? null });
    offset += tok.length;
  }
  if (offset !== text.length) {
    return { tokens: out, mismatch: `the tokens cover only ${offset} of ${text.length} characters` };
  }
  return { tokens: out };
}

/**
 * Aligns the echoed tokens of a completion with `text`. Returns the text's tokens with their offsets and log-probs.
 * Throws SpanScoringError when the echo does not reproduce the text.
 */
export function alignEchoedTokens(text: string, logprobs: EchoLogprobs | null | undefined): ScoredToken[] {
  if (!logprobs || !Array.isArray(logprobs.tokens) || !Array.isArray(logprobs.token_logprobs)) {
    throw new SpanScoringError(
      'the completion has no logprobs.tokens / logprobs.token_logprobs: the server must support echo: true with logprobs and max_tokens: 0',
    );
  }
  const tokens = logprobs.tokens as unknown[];
  const lps = logprobs.token_logprobs as unknown[];
  if (tokens.length !== lps.length) {
    throw new SpanScoringError(`logprobs.tokens has ${tokens.length} entries but token_logprobs has ${lps.length}`);
  }
  for (let i = 0; i < tokens.length; i++) {
    if (typeof tokens[i] !== 'string') throw new SpanScoringError(`logprobs.tokens[${i}] is not a string`);
    const lp = lps[i];
    if (lp !== null && (typeof lp !== 'number' || Number.isNaN(lp))) {
      throw new SpanScoringError(`logprobs.token_logprobs[${i}] is neither a number nor null`);
    }
  }
  const toks = tokens as string[];
  const lpv = lps as Array<number | null>;
  const first = alignFrom(text, toks, lpv, 0);
  let start = 0;
  let aligned = first;
  if (first.mismatch !== undefined && toks.length > 0) {
    const withoutBos = alignFrom(text, toks, lpv, 1);
    if (withoutBos.mismatch === undefined) {
      aligned = withoutBos;
      start = 1;
    }
  }
  if (aligned.mismatch !== undefined) {
    throw new SpanScoringError(
      `the echoed tokens do not reproduce the text: ${first.mismatch}. The server must echo the prompt as tokens whose ` +
        'concatenation equals the text (at most one leading BOS token is tolerated); byte-level or normalised token ' +
        'strings cannot be aligned with character spans',
    );
  }
  // Check the server's own offsets when it sent them.
  if (Array.isArray(logprobs.text_offset) && aligned.tokens.length > 0) {
    const serverOffsets = logprobs.text_offset as unknown[];
    if (serverOffsets.length !== toks.length) {
      throw new SpanScoringError(`logprobs.text_offset has ${serverOffsets.length} entries for ${toks.length} tokens`);
    }
    const base = serverOffsets[start];
    if (typeof base !== 'number') throw new SpanScoringError(`logprobs.text_offset[${start}] is not a number`);
    let utf16Ok = true;
    let codePointOk = true;
    let cp: Int32Array | undefined;
    for (let k = 0; k < aligned.tokens.length; k++) {
      const server = serverOffsets[start + k];
      if (typeof server !== 'number') throw new SpanScoringError(`logprobs.text_offset[${start + k}] is not a number`);
      const ours = aligned.tokens[k]!.offset;
      if (utf16Ok && server - base !== ours) utf16Ok = false;
      if (!utf16Ok) {
        cp ??= codePointOffsets(text);
        if (codePointOk && server - base !== cp[ours]) codePointOk = false;
      }
      if (!utf16Ok && !codePointOk) {
        throw new SpanScoringError(
          `logprobs.text_offset[${start + k}] = ${server} is inconsistent with the token strings (expected ${ours + base})`,
        );
      }
    }
  }
  return aligned.tokens;
}

/** Checks that spans lie within the text. */
export function validateSpans(text: string, spans: readonly Span[]): void {
  spans.forEach((span, i) => {
    if (
      !Number.isInteger(span.start) ||
      !Number.isInteger(span.end) ||
      span.start < 0 ||
      span.end < span.start ||
      span.end > text.length
    ) {
      throw new SpanScoringError(
        `spans[${i}] = [${span.start}, ${span.end}) is not a range within the text (length ${text.length})`,
      );
    }
  });
}

/** Sums token log-probs per span (see the rules above). */
export function sumSpanLogProbs(tokens: readonly ScoredToken[], spans: readonly Span[]): number[] {
  return spans.map((span, i) => {
    let sum = 0;
    // Tokens are sorted by offset: binary search for the first token starting at or after span.start.
    let lo = 0;
    let hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tokens[mid]!.offset < span.start) lo = mid + 1;
      else hi = mid;
    }
    for (let t = lo; t < tokens.length && tokens[t]!.offset < span.end; t++) {
      const token = tokens[t]!;
      if (token.logprob === null) {
        throw new SpanScoringError(
          `spans[${i}] = [${span.start}, ${span.end}) contains token ${preview(token.text)} at offset ${token.offset} ` +
            'which has no log-prob (the first token of the prompt is not scored); start the span after it or put a ' +
            'prefix before the scored text',
        );
      }
      sum += token.logprob;
    }
    return sum;
  });
}
