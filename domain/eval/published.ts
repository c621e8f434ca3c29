// The paper's published numbers (spec §5.3), so that a report can show them beside ours when it evaluates the same
// model. Keyed by a model name that is unique across the tables: a baseline corpus (OpenCodeReasoning, …) appears in
// several tables, so its rows are named after the model trained on it ("Qwen3-4B-Thinking-2507 + OpenCodeReasoning");
// the released PromptCoT 2.0 models go by their release names, with the table's wording as an alias.
// Every entry says which table it comes from. Scores are percentages (avg@16 for math, pass@1 for LiveCodeBench),
// Codeforces is the Elo rating. A name matches case-insensitively, ignoring an `org/` prefix and every character that
// is not a letter, a digit or "." (so "PromptCoT 2.0", "promptcot-2.0" and "PromptCoT_2.0" are one name).

/** The paper's columns, in its order, by our benchmark names. */
export const PAPER_COLUMNS = [
  { benchmark: 'aime24', title: 'AIME24' },
  { benchmark: 'aime25', title: 'AIME25' },
  { benchmark: 'hmmt25', title: 'HMMT' },
  { benchmark: 'lcb-v5', title: 'LCB v5' },
  { benchmark: 'lcb-v6', title: 'LCB v6' },
  { benchmark: 'codeforces', title: 'CF' },
] as const;
export type PaperBenchmark = (typeof PAPER_COLUMNS)[number]['benchmark'];

export const PUBLISHED_TABLES = {
  'self-play-30b': 'Self-play, Qwen3-30B-A3B-Thinking-2507 (paper table 30B)',
  'readme-figure': 'README figure of the PromptCoT repository (values read from the image)',
  'self-play-4b': 'Self-play, Qwen3-4B-Thinking-2507 (paper table 4B)',
  'sft-7b': 'SFT, Qwen2.5-7B-Instruct (paper table 7B)',
  'ablation-7b': 'Ablation, 7B SFT (paper ablation table)',
  'ring-lite': 'Ring-Lite-2506 (paper Ring-Lite table)',
} as const;
export type PublishedTable = keyof typeof PUBLISHED_TABLES;

export interface PublishedResult {
  /** the unique name (the key of PUBLISHED) */
  name: string;
  /** other names of the same model */
  aliases: readonly string[];
  table: PublishedTable;
  /** the row's label in its table */
  row: string;
  scores: Partial<Record<PaperBenchmark, number>>;
  /** further columns of the row (the SFT table's source, teacher, size, length) */
  details?: Readonly<Record<string, string>>;
}

type Six = [number, number, number, number, number, number];

function six(values: Six): Record<PaperBenchmark, number> {
  return Object.fromEntries(PAPER_COLUMNS.map((c, i) => [c.benchmark, values[i]!])) as Record<PaperBenchmark, number>;
}

const entries: PublishedResult[] = [];

function add(
  table: PublishedTable,
  row: string,
  name: string,
  scores: Partial<Record<PaperBenchmark, number>>,
  extra: { aliases?: string[]; details?: Record<string, string> } = {},
): void {
  entries.push({
    name,
    aliases: extra.aliases ?? [],
    table,
    row,
    scores,
    ...(extra.details && { details: extra.details }),
  });
}

const BASELINE_CORPORA = ['OpenCodeReasoning', 'OpenMathReasoning', 'OpenThoughts3', 'OpenR1', 'PromptCoT 1.0'];

function selfPlayTable(
  table: PublishedTable,
  base: string,
  release: { name: string; aliases: string[] },
  rows: Six[], // base, the five baseline corpora, PromptCoT 2.0
): void {
  add(table, base, base, six(rows[0]!));
  BASELINE_CORPORA.forEach((corpus, i) => add(table, corpus, `${base} + ${corpus}`, six(rows[i + 1]!)));
  add(table, 'PromptCoT 2.0', release.name, six(rows[6]!), {
    aliases: [`${base} + PromptCoT 2.0`, ...release.aliases],
  });
}

selfPlayTable(
  'self-play-30b',
  'Qwen3-30B-A3B-Thinking-2507',
  { name: 'PromptCoT-2.0-SelfPlay-30B-A3B', aliases: ['PromptCoT-2.0-SelfPlay-30B-11K'] },
  [
    [87.7, 85.0, 71.4, 68.1, 66.0, 2044],
    [85.0, 81.1, 64.9, 70.8, 67.4, 2048],
    [87.9, 86.1, 72.2, 65.7, 58.4, 2022],
    [85.7, 84.7, 70.0, 68.3, 67.2, 2019],
    [86.3, 84.9, 68.9, 68.3, 63.7, 2045],
    [86.8, 87.4, 72.0, 69.7, 67.8, 2051],
    [92.1, 89.8, 76.7, 74.2, 71.0, 2079],
  ],
);
add(
  'readme-figure',
  'Qwen3-Next-80B-A3B-Thinking',
  'Qwen3-Next-80B-A3B-Thinking',
  six([88.8, 87.8, 73.9, 73.5, 68.7, 2071]),
);
add('readme-figure', 'DeepSeek-R1-0528', 'DeepSeek-R1-0528', six([91.4, 87.5, 79.4, 75.5, 68.7, 2099]));
add('readme-figure', 'OpenAI o3', 'OpenAI o3', six([91.6, 88.9, 71.9, 78.3, 71.8, 2043]), { aliases: ['o3'] });
add('readme-figure', 'Gemini 2.5 Pro', 'Gemini 2.5 Pro', six([90.7, 89.2, 79.3, 77.5, 67.2, 2001]));

selfPlayTable(
  'self-play-4b',
  'Qwen3-4B-Thinking-2507',
  { name: 'PromptCoT-2.0-SelfPlay-4B', aliases: ['PromptCoT-2.0-SelfPlay-4B-48K'] },
  [
    [85.2, 81.3, 55.5, 63.8, 55.2, 1852],
    [83.1, 78.5, 50.4, 64.4, 57.1, 1867],
    [85.3, 83.0, 56.8, 59.7, 48.5, 1826],
    [84.7, 80.6, 54.2, 65.2, 54.4, 1846],
    [84.6, 80.9, 56.7, 63.0, 54.6, 1829],
    [85.3, 81.8, 58.6, 64.5, 56.7, 1878],
    [87.3, 85.0, 66.5, 67.7, 61.1, 1934],
  ],
);

const SFT_BASE = 'Qwen2.5-7B-Instruct';
add('sft-7b', SFT_BASE, SFT_BASE, six([12.8, 8.0, 2.7, 14.7, 13.7, 706]));
const sftRows: Array<[string, string, string, string, string, Six]> = [
  ['OpenCodeReasoning', 'H', 'R1', '0.75M', '12878.9', [11.7, 7.7, 6.0, 50.5, 42.0, 1648]],
  ['OpenMathReasoning', 'H', 'R1', '4.92M', '14407.5', [73.3, 58.1, 42.1, 9.7, 10.7, 676]],
  ['OpenThoughts3', 'H+S', 'QwQ-32B', '1.20M', '18740.2', [69.6, 59.4, 38.3, 47.0, 36.6, 1630]],
  ['OpenR1', 'H', 'R1', '0.35M', '14974.3', [55.6, 39.2, 24.6, 40.5, 32.8, 1548]],
  ['PromptCoT 1.0', 'H+S', 'QwQ-32B', '1.25M', '16323.5', [71.0, 60.2, 41.6, 47.8, 43.6, 1645]],
  ['OpenThoughts3 (GPT)', 'H+S', 'GPT-OSS-120B-m', '1.20M', '8967.2', [52.3, 37.3, 24.0, 22.2, 21.4, 907]],
];
for (const [corpus, src, teacher, size, len, scores] of sftRows)
  add('sft-7b', corpus, `${SFT_BASE} + ${corpus}`, six(scores), { details: { src, teacher, size, len } });
add('sft-7b', 'PromptCoT 2.0', 'PromptCoT-2.0-SFT-7B', six([73.1, 65.6, 46.5, 53.4, 48.9, 1815]), {
  aliases: [`${SFT_BASE} + PromptCoT 2.0`],
  details: { src: 'S', teacher: 'GPT-OSS-120B-m', size: '4.77M', len: '7351.2' },
});
// the ablation's "full" row is the SFT table's PromptCoT 2.0 row (same numbers)
add(
  'ablation-7b',
  '− cold start',
  'PromptCoT-2.0-SFT-7B without cold start',
  six([72.1, 63.9, 45.3, 50.4, 43.6, 1677]),
);
add('ablation-7b', '− EM', 'PromptCoT-2.0-SFT-7B without EM', six([69.8, 59.0, 41.3, 44.9, 44.2, 1592]));

add('ring-lite', 'Ring-Lite-2506', 'Ring-Lite-2506', { aime24: 76.6, aime25: 69.1, 'lcb-v5': 60.7 });
add('ring-lite', 'PromptCoT 2.0', 'Ring-Lite-2506 + PromptCoT 2.0', { aime24: 79.8, aime25: 70.4, 'lcb-v5': 62.7 });

/** The published results by unique model name. */
export const PUBLISHED: Readonly<Record<string, PublishedResult>> = Object.freeze(
  Object.fromEntries(entries.map((e) => [e.name, Object.freeze(e)])),
);

/** The form names are compared in: lower case, no `org/` prefix, only letters, digits and ".". */
export function normalizeModelName(name: string): string {
  const bare = name.slice(name.lastIndexOf('/') + 1);
  return bare.toLowerCase().replace(/[^a-z0-9.]/g, '');
}

const byNormalizedName = new Map<string, PublishedResult>();
for (const e of entries)
  for (const n of [e.name, ...e.aliases]) {
    const key = normalizeModelName(n);
    const seen = byNormalizedName.get(key);
    if (seen && seen !== e) throw new Error(`published names "${seen.name}" and "${n}" compare equal`);
    byNormalizedName.set(key, e);
  }

/** The published result of the first of the names that matches one (undefined names are skipped). */
export function findPublished(names: readonly (string | undefined)[]): PublishedResult | undefined {
  for (const name of names) {
    if (name === undefined) continue;
    const hit = byNormalizedName.get(normalizeModelName(name));
    if (hit) return hit;
  }
  return undefined;
}
