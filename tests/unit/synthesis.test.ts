import { numberedConcepts, render, template } from '../../activities/prompts';
import { formatProblem } from '../../activities/prompts/problems';
import { conceptPrompt } from '../../activities/synthesize-corpus/generate-problem';
import {
  ConceptRecordSchema,
  formatGeneration,
  mathFilterReason,
  parseGeneration,
  SynthesizeCorpusInputSchema,
} from '../../domain/synthesize-corpus';
import { firstStringList, parseConceptList, parseThinkingProcess } from '../../domain/cold-start';
import { describeZodError } from '../../domain/core/validation';

describe('p_theta output markers', () => {
  it('takes the trimmed blocks and round-trips the training format', () => {
    const text = formatGeneration('Combine gcd with counting.', 'How many pairs (a, b)...?');
    expect(parseGeneration(`noise before\n${text}\ntrailing`)).toEqual({
      ok: true,
      rationale: 'Combine gcd with counting.',
      problem: 'How many pairs (a, b)...?',
    });
  });

  it('says which block is missing or empty', () => {
    expect(parseGeneration('<!-- BEGIN RATIONALE --> r <!-- END RATIONALE -->')).toEqual({
      ok: false,
      reason: 'unparseable generation: no complete PROBLEM block',
    });
    expect(parseGeneration('<!-- BEGIN PROBLEM --> x')).toEqual({
      ok: false,
      reason: 'unparseable generation: no complete RATIONALE / PROBLEM block',
    });
    expect(
      parseGeneration('<!-- BEGIN RATIONALE --> r <!-- END RATIONALE --><!-- BEGIN PROBLEM -->  <!-- END PROBLEM -->'),
    ).toEqual({
      ok: false,
      reason: 'unparseable generation: empty PROBLEM block',
    });
  });
});

describe('prompt templates', () => {
  it('formats code and math problems exactly as the published pipeline', () => {
    expect(formatProblem('math', 'What is 1+1?')).toBe(
      'What is 1+1?\nPlease reason step by step, and put your final answer within \\boxed{}.',
    );
    const code = formatProblem('code', 'Sum two numbers.');
    expect(
      code.startsWith(
        'You will be given a question (problem specification) and will generate a correct Python program',
      ),
    ).toBe(true);
    expect(code).toContain('\n\nSum two numbers.\n\nRead the inputs from stdin solve the problem');
    expect(code.endsWith('```python\n# YOUR CODE HERE\n```\n\n')).toBe(true);
    const starter = formatProblem('code', 'Implement f. Use the starter code below.');
    expect(starter.endsWith('Implement f. Use the starter code below.')).toBe(true);
  });

  it('builds the raw concept prompt from concepts and level when a record has no prompt', () => {
    const prompt = conceptPrompt({
      foundational_concepts: ['Modular arithmetic', 'Pigeonhole principle'],
      level: 'AIME',
    });
    expect(prompt).toBe(
      'Given foundational concepts and difficulty level, identify connections and develop a question that integrates these concepts with appropriate complexity.\n\n' +
        'Foundational Concepts:\n1. Modular arithmetic\n2. Pigeonhole principle\n\nDifficulty Level: AIME',
    );
    expect(conceptPrompt({ prompt: 'raw prompt' })).toBe('raw prompt');
  });

  it('fills every placeholder and refuses to leave one unfilled', () => {
    const text = render('rationale-annotation', {
      problem: 'P {x}',
      numbered_concepts: numberedConcepts(['a', 'b']),
      difficulty_level: 'HMMT-Feb',
    });
    expect(text).toContain('Problem: P {x}\n\nFoundamental Concepts:\n1. a\n2. b\n\nDifficulty Level: HMMT-Feb');
    expect(() => render('concept-extraction', { problem: 'p' })).toThrow('no value for {num_concepts}');
    expect(template('concept-extraction')).toContain(
      'format your response as a Python code snippet containing a list of {num_concepts} strings',
    );
  });
});

describe('cold start parsing', () => {
  it('reads the first list of strings from the code snippet, with escapes and quotes of both kinds', () => {
    const answer =
      'Let me think... [not a list]\n```python\nconcepts = [\n  "Euclid\'s algorithm",\n  \'The \\"pigeonhole\\" principle\',\n  "Inclusion-exclusion",\n]\n```\nDone.';
    expect(parseConceptList(answer)).toEqual([
      "Euclid's algorithm",
      'The "pigeonhole" principle',
      'Inclusion-exclusion',
    ]);
    expect(firstStringList('x = [1, 2] and ["a"]')).toEqual(['a']);
  });

  it('falls back to Knowledge Point lines, and gives up when there is neither', () => {
    expect(parseConceptList('Knowledge Point: Vieta\nKnowledge Point: AM-GM\n')).toEqual(['Vieta', 'AM-GM']);
    expect(parseConceptList('no concepts here')).toBeUndefined();
  });

  it('takes the text after the last "Thinking Process:"', () => {
    expect(parseThinkingProcess('Thinking Process: draft\n...\nThinking Process: Step 1. Start from residues.')).toBe(
      'Step 1. Start from residues.',
    );
    expect(parseThinkingProcess('nothing')).toBeUndefined();
  });
});

describe('math filters and schemas', () => {
  it('drops problems without a usable answer', () => {
    expect(mathFilterReason(formatProblem('math', 'Prove that 2 is prime.'))).toBe(
      'math filter: contains "Prove that"',
    );
    expect(mathFilterReason(formatProblem('math', 'Find all n with the following conditions:'))).toMatch(
      /the following conditions:\\nPlease reason step by step/,
    );
    expect(mathFilterReason(formatProblem('math', 'Find n.'))).toBeUndefined();
  });

  it('validates concept records and synthesis inputs, naming the field', () => {
    expect(ConceptRecordSchema.safeParse({ foundational_concepts: ['a'], level: 'AIME' }).success).toBe(true);
    const bad = ConceptRecordSchema.safeParse({ foundational_concepts: [] });
    expect(bad.success).toBe(false);
    expect(describeZodError(bad.error!)).toMatch(/foundational_concepts: Too small/);
    const input = SynthesizeCorpusInputSchema.parse({ name: 'c', conceptFiles: ['f.jsonl'], domain: 'math' });
    expect(input).toMatchObject({
      passes: 64,
      firstSeed: 8000,
      sampling: { temperature: 0.8, topP: 1, maxTokens: 4096 },
      dedup: { threshold: 0.2, minWordLength: 4 },
    });
    expect(
      describeZodError(
        SynthesizeCorpusInputSchema.safeParse({ name: 'c', conceptFiles: [], domain: 'physics' }).error!,
      ),
    ).toMatch(/conceptFiles: .*; domain: Invalid option/);
  });
});
