// The analyzeCorpora input at the workflow boundary (a bad one names its field), the zero-shot prompts, the
// embedder's dataset key, and the Markdown section the experiment report embeds.
import {
  AnalyzeCorporaInputSchema,
  analysisPrompt,
  embedderKey,
  renderCorpusAnalysisSection,
  type CorpusAnalysis,
} from '../../domain/analyze-corpora';
import { fieldProblems } from '../../domain/core/validation';

const fields = (raw: unknown) => {
  const r = AnalyzeCorporaInputSchema.safeParse(raw);
  return r.success ? [] : fieldProblems(r.error).map((p) => p.field);
};

describe('the analyzeCorpora input', () => {
  const two = [
    { label: 'ours', files: ['a.jsonl'], domain: 'math' },
    { label: 'theirs', files: ['b.jsonl'] },
  ];
  it('has the paper defaults: 1,000 problems per corpus, teacher and solver roles, the auto embedder', () => {
    const v = AnalyzeCorporaInputSchema.parse({ name: 'x', corpora: two });
    expect(v.difficulty.sampleSize).toBe(1000);
    expect(v.difficulty.teacher.role).toBe('teacher');
    expect(v.difficulty.solver).toMatchObject({ role: 'solver', temperature: 0 });
    expect(v.diversity.embedder).toEqual({ kind: 'auto' });
  });
  it('names the field of a bad input', () => {
    expect(fields({ name: 'x', corpora: [two[0]] })).toEqual(['corpora']);
    expect(fields({ name: 'x', corpora: [two[0], { ...two[0] }] })).toEqual(['corpora[1].label']);
    expect(fields({ name: 'x', corpora: [two[0], { label: 'y' }] })).toEqual(['corpora[1].files']);
    expect(fields({ name: 'x', corpora: two, diversity: { embedder: { kind: 'onnx' } } })).toEqual([
      'diversity.embedder.modelDir',
    ]);
    expect(fields({ name: 'x', corpora: two, difficulty: { enabled: false }, diversity: { enabled: false } })).toEqual([
      'difficulty.enabled',
    ]);
  });
  it('asks for a boxed answer (math) or a program (code), and keys embedders by what they are', () => {
    expect(analysisPrompt('math', ' What is 2+2? ')).toBe(
      'What is 2+2?\n\nPlease reason step by step, and put your final answer within \\boxed{}.',
    );
    expect(analysisPrompt('code', 'Sum.')).toContain('```python');
    expect(analysisPrompt('code', 'Sum.', 'twoSum')).toContain('`twoSum`');
    expect(embedderKey({ kind: 'bag-of-words', dimensions: 64 })).toBe(
      embedderKey({ kind: 'bag-of-words', dimensions: 64 }),
    );
    expect(embedderKey({ kind: 'bag-of-words', dimensions: 64 })).not.toBe(
      embedderKey({ kind: 'bag-of-words', dimensions: 65 }),
    );
  });
});

describe('the analysis section', () => {
  const analysis: CorpusAnalysis = {
    name: 'cmp',
    seed: 3,
    corpora: [
      {
        label: 'ours',
        domain: 'math',
        problems: 1000,
        rejected: 2,
        nearDuplicates: { count: 5, rate: 0.005, threshold: 0.2 },
        difficulty: {
          sampled: 1000,
          noReference: 12,
          noTests: 0,
          failed: 1,
          accuracy: { mean: 0.185, se: 0.012, ci: [0.162, 0.209], n: 987 },
          passRate: null,
          teacherTokens: { mean: 37373.3, se: 400, ci: [36600.5, 38150.1], n: 987 },
        },
        diversity: { embedded: 1000, meanPairwiseDistance: 0.81234, pairwiseSample: 500 },
      },
      {
        label: 'theirs',
        domain: 'math',
        problems: 800,
        rejected: 0,
        nearDuplicates: { count: 40, rate: 0.05, threshold: 0.2 },
        diversity: { embedded: 800, meanPairwiseDistance: 0.7, pairwiseSample: 500 },
      },
    ],
    difficulty: {
      teacher: 'gpt-oss-120b (role teacher)',
      solver: 'role solver',
      sampleSize: 1000,
      bootstrap: { samples: 1000, seed: 0 },
    },
    diversity: {
      embedder: { kind: 'bag-of-words', description: 'hashed bag of words', dimensions: 1024, why: 'auto: no model' },
      distances: [
        [0, 0.25],
        [0.25, 0],
      ],
      mds: {
        coordinates: [
          { label: 'ours', x: 0.125, y: 0 },
          { label: 'theirs', x: -0.125, y: 0 },
        ],
        eigenvalues: [0.03125, 0],
        share: [1, 0],
        negativeShare: 0,
      },
    },
    files: { markdown: 'reports/cmp/analysis.md', json: 'reports/cmp/analysis.json', plot: 'reports/cmp/mds.png' },
  };
  it("renders the paper's table (accuracy and tokens with CIs), the embedder that ran, distances, MDS and the plot", () => {
    const md = renderCorpusAnalysisSection(analysis, { plotPath: 'cmp/mds.png', heading: 'Harder and more diverse' });
    expect(md.startsWith('## Harder and more diverse\n')).toBe(true);
    expect(md).toContain(
      '| ours | 18.5 [16.2, 20.9] (n=987) | — | 37,373.3 [36,600.5, 38,150.1] (n=987) | 1000 | 12 | 0 | 1 |',
    );
    expect(md).toContain('Embedder: **bag-of-words**');
    expect(md).toContain('auto: no model');
    expect(md).toContain('| ours | 0.0000 | 0.2500 |');
    expect(md).toContain('| theirs | -0.12500 | 0.00000 |');
    expect(md).toContain('axis 1 carries 100.0%');
    expect(md).toContain('![MDS of the corpora](cmp/mds.png)');
    expect(md).toContain('40 (5.0%, Jaccard > 0.2)');
  });
});
