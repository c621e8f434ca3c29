// The cold start of the EM loop (spec §1.4): seed problems -> concepts (extractConcepts) -> rationales
// (annotateRationale) -> concept files and seed triples (c, z, x); the coldStart input and the parsing rules of the
// annotators' answers.
import { z } from 'zod';
import { maxTokensField, temperatureField } from './core/sampling';
import { roleModelFields, shardSizeField, STAGE_RUN_FIELDS } from './core/fragments';
import { DatasetNameSchema } from './core/dataset';
import { declareOperation } from './core/operation';
import { MODEL_ROLES } from './core/roles';

/** One annotator of the cold start: a model role (its endpoint) and optionally a model name there. */
export const AnnotatorSchema = z.object({ role: z.enum(MODEL_ROLES), model: z.string().min(1).optional() }).strict();
export type Annotator = z.infer<typeof AnnotatorSchema>;

/**
 * Parameters of the cold-start operations (spec §1.4): concepts of a seed problem, rationale of a triple.
 * Several annotators (the paper used four instruct models; how it combined them is unspecified): with
 * `annotatorPolicy: 'one'` each problem goes to one of them, chosen by a hash of its id (deterministic, even
 * spread); with 'all' every annotator annotates every problem (ids `<id>~<k>`). The annotator that extracted a
 * problem's concepts also writes its rationale. Without `annotators`, `role`/`model` is the single annotator.
 */
export const ExtractConceptsParamsSchema = z
  .object({
    ...roleModelFields('rationaleModel'),
    annotators: z.array(AnnotatorSchema).min(1).max(16).optional(),
    annotatorPolicy: z.enum(['one', 'all']).default('one'),
    numConcepts: z.number().int().min(1).max(20).default(5),
    /** Difficulty level given to records that carry none (e.g. "AIME", "Codeforces"). */
    level: z.string().min(1).optional(),
    temperature: temperatureField(0.6),
    maxTokens: maxTokensField(4096),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();
export type ExtractConceptsParams = z.output<typeof ExtractConceptsParamsSchema>;

export const AnnotateRationaleParamsSchema = ExtractConceptsParamsSchema.omit({ numConcepts: true });
export type AnnotateRationaleParams = z.output<typeof AnnotateRationaleParamsSchema>;

/** Cold start: seed problems → concepts (extractConcepts) → rationales (annotateRationale) → seed triples. */
export const ColdStartInputSchema = z
  .object({
    name: DatasetNameSchema,
    /** JSONL with `problem` (and optionally `level`) per line. */
    problemFiles: z.array(z.string().min(1)).min(1),
    concepts: ExtractConceptsParamsSchema.prefault({}),
    rationales: AnnotateRationaleParamsSchema.prefault({}),
    shardSize: shardSizeField(1000),
    maxConcurrentShards: STAGE_RUN_FIELDS.maxConcurrentShards,
    itemConcurrency: STAGE_RUN_FIELDS.itemConcurrency,
  })
  .strict();
export type ColdStartInput = z.input<typeof ColdStartInputSchema>;

// ---- cold start parsing (spec §1.4)

/** Reads a Python string literal starting at text[i] (a quote); returns its value and the index after it. */
function pythonString(text: string, i: number): { value: string; next: number } | undefined {
  const quote = text[i];
  if (quote !== '"' && quote !== "'") return undefined;
  const triple = text.startsWith(quote.repeat(3), i);
  const close = triple ? quote.repeat(3) : quote;
  let j = i + close.length;
  let value = '';
  while (j < text.length) {
    if (text.startsWith(close, j)) return { value, next: j + close.length };
    const c = text[j]!;
    if (c === '\n' && !triple) return undefined;
    if (c === '\\' && j + 1 < text.length) {
      const e = text[j + 1]!;
      value += ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[e] ?? `\\${e}`;
      j += 2;
      continue;
    }
    value += c;
    j++;
  }
  return undefined;
}

/** The first list of string literals in a text, e.g. `["a", 'b']`; undefined when there is none. */
export function firstStringList(text: string): string[] | undefined {
  for (let start = text.indexOf('['); start >= 0; start = text.indexOf('[', start + 1)) {
    const items: string[] = [];
    let i = start + 1;
    let ok = false;
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text[i] === ']') {
        ok = items.length > 0;
        break;
      }
      const s = pythonString(text, i);
      if (!s) break;
      items.push(s.value);
      i = s.next;
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text[i] === ',') i++;
      else if (text[i] !== ']') break;
    }
    if (ok) return items;
  }
  return undefined;
}

/** The last fenced code block's content (```python … ``` or ``` … ```), else undefined. */
export function lastCodeBlock(text: string): string | undefined {
  const blocks = [...text.matchAll(/```[a-zA-Z0-9_+-]*\n([\s\S]*?)```/g)];
  return blocks.length > 0 ? blocks[blocks.length - 1]![1] : undefined;
}

/** Concepts from an extraction answer: a list in a code snippet, else `Knowledge Point: …` lines. */
export function parseConceptList(answer: string): string[] | undefined {
  const fromCode = firstStringList(lastCodeBlock(answer) ?? '') ?? firstStringList(answer);
  if (fromCode) return fromCode.map((c) => c.trim()).filter((c) => c !== '');
  const points = [...answer.matchAll(/Knowledge Point:\s*(.+)/g)].map((m) => m[1]!.trim()).filter((c) => c !== '');
  return points.length > 0 ? points : undefined;
}

/** The rationale of an annotation answer: the text after the last `Thinking Process:`. */
export function parseThinkingProcess(answer: string): string | undefined {
  const i = answer.lastIndexOf('Thinking Process:');
  if (i < 0) return undefined;
  const text = answer.slice(i + 'Thinking Process:'.length).trim();
  return text === '' ? undefined : text;
}

export const SeedProblemSchema = z
  .object({ problem: z.string().trim().min(1), level: z.string().trim().min(1).optional() })
  .loose();

export const ConceptProblemSchema = SeedProblemSchema.extend({
  foundational_concepts: z.array(z.string().trim().min(1)).min(1),
  annotator: AnnotatorSchema.extend({ index: z.number().int().nonnegative().optional() }).optional(),
});

const AnnotationProvenanceSchema = z
  .object({
    sourceId: z.string(),
    stage: z.string(),
    model: z.string(),
    role: z.enum(MODEL_ROLES),
    usage: z.unknown(),
    attempt: z.number(),
  })
  .strict();
const RecordedAnnotatorSchema = AnnotatorSchema.extend({ index: z.number().int().nonnegative() });

/** A concept record of a seed problem: the input of synthesis and of annotateRationale. */
export const ExtractedConceptsRowSchema = z
  .object({
    id: z.string(),
    problem: z.string(),
    foundational_concepts: z.array(z.string()).min(1),
    level: z.string().nullable(),
    annotator: RecordedAnnotatorSchema,
    provenance: AnnotationProvenanceSchema,
  })
  .strict();

/** A seed triple (c, z, x) with p_theta's training target. */
export const SeedTripleRowSchema = z
  .object({
    id: z.string(),
    foundational_concepts: z.array(z.string()).min(1),
    level: z.string(),
    problem: z.string(),
    rationale: z.string(),
    target: z.string(),
    annotator: RecordedAnnotatorSchema,
    provenance: AnnotationProvenanceSchema,
  })
  .strict();

export const ExtractConceptsOperation = declareOperation({
  name: 'extractConcepts',
  queue: 'inference',
  description: 'the foundational concepts of a seed problem, by one annotator or all of them',
  params: ExtractConceptsParamsSchema,
  item: SeedProblemSchema,
  row: ExtractedConceptsRowSchema,
});

export const AnnotateRationaleOperation = declareOperation({
  name: 'annotateRationale',
  queue: 'inference',
  description: 'the rationale of (concepts, problem) by the annotator that extracted the concepts: a seed triple',
  params: AnnotateRationaleParamsSchema,
  item: ConceptProblemSchema,
  row: SeedTripleRowSchema,
});
