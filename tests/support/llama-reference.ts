// node-llama-cpp's own evaluation of a GGUF model, outside our server, for tests to compare the server with (run in
// a child process: jest cannot load the ESM-only package). Reads a JSON request on stdin, prints a JSON answer:
//
//   {"modelPath": "...", "ops": [
//      {"op": "score", "text": "..."},                    log p of every token after the first, from the full logits
//      {"op": "tokens", "text": "...", "special": true},  token count (special: parse <|im_start|> … as control tokens)
//      {"op": "greedy", "text": "...", "maxTokens": 32}   temperature-0 generation from the tokens of `text` (special)
//   ]}
//
// Scoring computes log-softmax in float64 over all logits llama.cpp returns (the server asks llama.cpp for the
// actual token's logit, the maximum and the total weight instead), so the two reach the same numbers differently.
import type { ControlledEvaluateInputItem, Token } from 'node-llama-cpp';
import { loadNodeLlamaCpp } from '../../lib/local-model/engine';

type Op =
  | { op: 'score'; text: string }
  | { op: 'tokens'; text: string; special?: boolean }
  | { op: 'greedy'; text: string; maxTokens: number };

export type ReferenceAnswer =
  | { op: 'score'; tokens: number[]; logprobs: number[] }
  | { op: 'tokens'; tokens: number[] }
  | { op: 'greedy'; tokens: number[]; text: string; finishedByEos: boolean };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as { modelPath: string; ops: Op[] };
  const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: request.modelPath });
  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  const seq = context.getSequence();
  const withBos = (tokens: Token[]): Token[] =>
    model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos, ...tokens] : tokens;
  const answers: ReferenceAnswer[] = [];
  for (const op of request.ops) {
    await seq.clearHistory();
    if (op.op === 'tokens') {
      answers.push({ op: 'tokens', tokens: withBos(model.tokenize(op.text, op.special ?? false)) });
    } else if (op.op === 'score') {
      const tokens = withBos(model.tokenize(op.text, false));
      const results = await seq.controlledEvaluate(
        tokens.map((t, i): ControlledEvaluateInputItem =>
          i < tokens.length - 1 ? [t, { generateNext: { logits: true } }] : t,
        ),
      );
      const logprobs = tokens.slice(1).map((next, i) => {
        const logits = results[i]?.next.logits;
        if (!logits) throw new Error(`no logits at position ${i}`);
        let max = -Infinity;
        for (const v of logits.values()) max = Math.max(max, v);
        let sum = 0;
        for (const v of logits.values()) sum += Math.exp(v - max);
        return logits.get(next)! - max - Math.log(sum);
      });
      answers.push({ op: 'score', tokens, logprobs });
    } else {
      const out: Token[] = [];
      let finishedByEos = false;
      for await (const token of seq.evaluate(withBos(model.tokenize(op.text, true)), {
        temperature: 0,
        yieldEogToken: true,
      })) {
        if (model.isEogToken(token)) {
          finishedByEos = true;
          break;
        }
        out.push(token);
        if (out.length >= op.maxTokens) break;
      }
      answers.push({ op: 'greedy', tokens: out, text: model.detokenize(out), finishedByEos });
    }
  }
  await llama.dispose();
  process.stdout.write(JSON.stringify(answers));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
