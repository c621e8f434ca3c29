// The evaluation report (activities/eval/report.ts): the paper's table layout with the published numbers of a
// matching model ("—" otherwise), the detail tables, the paired differences, and a bar chart PNG that decodes (its
// signature, IHDR size and the pixels of the bars and whiskers); the published tables' name matching.
import { inflateSync } from 'node:zlib';
import { evaluationReport, type ReportedResult } from '../../activities/eval/report';
import { renderBarChartPng } from '../../activities/reports/plot';
import { benchmarkMetrics, formatEstimate, pairedDifference, type CellScore } from '../../domain/eval/metrics';
import { findPublished, normalizeModelName, PUBLISHED } from '../../domain/eval/published';

/** Cells of `problems` problems × `runs` runs, correct where `correct(problem, run)`. */
function cells(problems: number, runs: number, correct: (p: number, r: number) => boolean, math = true): CellScore[] {
  const out: CellScore[] = [];
  for (let p = 0; p < problems; p++)
    for (let run = 0; run < runs; run++) {
      const ok = correct(p, run);
      out.push({
        problem: `q${p}`,
        run,
        correct: ok,
        answered: true,
        truncated: run === 0 && p === 0,
        outputTokens: 100 * (run + 1),
        ...(math ? { answerKey: ok ? 'right' : `wrong${run % 2}` } : {}),
      });
    }
  return out;
}

interface DecodedPng {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
}

/** A plain decoder for the PNGs encodePng writes: 8-bit RGB, filter 0 on every row. */
function decodePng(png: Buffer): DecodedPng {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 2]); // 8-bit RGB
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  expect(types[0]).toBe('IHDR');
  expect(types.at(-1)).toBe('IEND');
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) expect(raw[y * (width * 3 + 1)]).toBe(0);
  return {
    width,
    height,
    pixel(x, y) {
      const i = y * (width * 3 + 1) + 1 + x * 3;
      return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
    },
  };
}

const BLUE = [31, 119, 180];
const ORANGE = [255, 127, 14];

describe('evaluationReport', () => {
  const baseAime = cells(30, 16, (p, r) => (p * 7 + r) % 3 !== 0);
  const tunedAime = cells(30, 16, (p, r) => (p * 7 + r) % 4 !== 0);
  const baseLcb = cells(20, 1, (p) => p % 2 === 0, false);
  const tunedLcb = cells(18, 1, (p) => p % 3 !== 0, false);
  const cf = cells(10, 8, (p, r) => p + r > 6, false);
  const bootstrap = { samples: 200, seed: 5 };
  const metrics = (c: CellScore[]) => benchmarkMetrics(c, { bootstrap });
  const results: ReportedResult[] = [
    { model: 'base', benchmark: 'aime24', metrics: metrics(baseAime) },
    { model: 'tuned', benchmark: 'aime24', metrics: metrics(tunedAime) },
    { model: 'base', benchmark: 'lcb-v5', metrics: metrics(baseLcb) },
    { model: 'tuned', benchmark: 'lcb-v5', metrics: metrics(tunedLcb) },
    {
      model: 'base',
      benchmark: 'codeforces',
      metrics: metrics(cf),
      elo: { rating: 1851.6, percentile: 92.4, contests: 2 },
    },
    {
      model: 'tuned',
      benchmark: 'codeforces',
      metrics: metrics(cf),
      elo: { rating: null, percentile: null, contests: 0, reasonIfNone: 'no Codeforces standings cache' },
    },
  ];
  const aimeDiff = pairedDifference(baseAime, tunedAime, { bootstrap });
  const lcbDiff = pairedDifference(baseLcb, tunedLcb, { bootstrap });
  const report = evaluationReport({
    name: 'round-check',
    models: [
      { label: 'base', model: 'qwen3-4b-thinking-2507' }, // matches the 4B table's base row, case-insensitively
      { label: 'tuned', model: 'my-lora', version: 'sp-round-1' }, // matches nothing
    ],
    results,
    comparisons: [
      { a: 'base', b: 'tuned', benchmark: 'aime24', difference: aimeDiff },
      { a: 'base', b: 'tuned', benchmark: 'lcb-v5', difference: lcbDiff },
    ],
  });
  const lines = report.markdown.split('\n');

  it('lays the main table out like the paper, ours beside the published numbers', () => {
    const header = lines.findIndex((l) => l.startsWith('| model |'));
    expect(lines[header]).toBe('| model |  | AIME24 | AIME25 | HMMT | LCB v5 | LCB v6 | CF |');
    const [baseOurs, basePaper, tunedOurs, tunedPaper] = lines.slice(header + 2, header + 6);
    const avg = (c: CellScore[]) => formatEstimate(metrics(c).avgAtK);
    expect(baseOurs).toBe(`| base | ours | ${avg(baseAime)} | — | — | ${avg(baseLcb)} | — | 1852 |`);
    expect(basePaper).toBe('|  | paper (Qwen3-4B-Thinking-2507) | 85.2 | 81.3 | 55.5 | 63.8 | 55.2 | 1852 |');
    expect(tunedOurs).toBe(`| tuned | ours | ${avg(tunedAime)} | — | — | ${avg(tunedLcb)} | — | — |`);
    expect(tunedPaper).toBe('|  | paper | — | — | — | — | — | — |');
    expect(report.markdown).toContain(
      '- base: Self-play, Qwen3-4B-Thinking-2507 (paper table 4B), row "Qwen3-4B-Thinking-2507".',
    );
    expect(report.markdown).toContain('- tuned, CF: no Elo: no Codeforces standings cache.');
    expect(avg(baseAime)).toMatch(/^\d+\.\d ± \d+\.\d \[\d+\.\d, \d+\.\d\]$/);
  });

  it('has a detail table per benchmark with pass@k, maj@k, rates and tokens', () => {
    const section = (title: string) => {
      const start = lines.indexOf(title);
      expect(start).toBeGreaterThan(0);
      const rows = [];
      for (let i = start + 2; lines[i]?.startsWith('|'); i++) rows.push(lines[i]!);
      return rows;
    };
    const aime = section('## AIME24 (aime24)');
    expect(aime[0]).toBe(
      '| model | problems | runs | cells | avg@k | pass@1 | pass@2 | pass@4 | pass@8 | pass@16 | maj@1 | maj@2 | ' +
        'maj@4 | maj@8 | maj@16 | no answer | truncated | tokens mean | tokens median |',
    );
    const m = metrics(baseAime);
    expect(aime[2]).toBe(
      `| base | 30 | 16 | 480 | ${formatEstimate(m.avgAtK)} | ` +
        ['1', '2', '4', '8', '16'].map((k) => formatEstimate(m.passAtK[k]!)).join(' | ') +
        ' | ' +
        ['1', '2', '4', '8', '16'].map((k) => formatEstimate(m.majAtK![k]!)).join(' | ') +
        ` | 0.0% | 0.2% | 850 | 850 |`,
    );
    const lcb = section('## LCB v5 (lcb-v5)');
    expect(lcb[0]).toBe(
      '| model | problems | runs | cells | avg@k | pass@1 | no answer | truncated | tokens mean | tokens median |',
    );
    expect(lcb[2]).toContain(`| base | 20 | 1 | 20 | ${formatEstimate(metrics(baseLcb).avgAtK)} † |`);
    expect(report.markdown).toContain('† one run per problem: the standard error is over problems, not runs.');
    const codeforces = section('## CF (codeforces)');
    expect(codeforces[0]).toMatch(/\| Elo \| percentile \| contests \|$/);
    expect(codeforces[2]).toMatch(/\| 1852 \| 92\.4% \| 2 \|$/);
    expect(codeforces[3]).toMatch(/\| — \| — \| 0 \|$/);
  });

  it('reports the paired differences with their problem counts', () => {
    const at = lines.indexOf('## Paired differences');
    expect(at).toBeGreaterThan(0);
    expect(report.markdown).toContain(`| aime24 | base | tuned | 30 | ${formatEstimate(aimeDiff)} |`);
    expect(lcbDiff).toMatchObject({ problems: 18, onlyInA: 2, onlyInB: 0 });
    expect(report.markdown).toContain(`| lcb-v5 | base | tuned | 18 (2 left out) | ${formatEstimate(lcbDiff)} |`);
  });

  it('gives the same content as JSON, with the published match', () => {
    const models = report.json.models as Array<{ label: string; published: { name: string; table: string } | null }>;
    expect(models.map((m) => [m.label, m.published?.name ?? null, m.published?.table ?? null])).toEqual([
      ['base', 'Qwen3-4B-Thinking-2507', 'self-play-4b'],
      ['tuned', null, null],
    ]);
    expect(report.json.results).toEqual(results);
    expect(JSON.parse(JSON.stringify(report.json))).toEqual(report.json);
  });

  it('draws a bar chart that decodes: one group per benchmark, one bar per model', () => {
    const png = decodePng(report.png);
    expect([png.width, png.height]).toEqual([Math.max(640, 100 + 3 * (2 * 24 + 40)), 420]);
    const colours = new Set<string>();
    for (let y = 0; y < png.height; y += 2)
      for (let x = 0; x < png.width; x += 2) colours.add(png.pixel(x, y).join(','));
    expect(colours.has(BLUE.join(','))).toBe(true);
    expect(colours.has(ORANGE.join(','))).toBe(true);
  });

  it('shows the published numbers matched on a version with an organisation prefix', () => {
    const r = evaluationReport({
      name: 'released',
      models: [{ label: 'ours', model: 'served', version: 'xl-zhao/PromptCoT-2.0-SelfPlay-4B-48K' }],
      results: [{ model: 'ours', benchmark: 'aime25', metrics: metrics(baseAime) }],
    });
    expect(r.markdown).toContain('|  | paper (PromptCoT-2.0-SelfPlay-4B) | 87.3 | 85.0 | 66.5 | 67.7 | 61.1 | 1934 |');
    expect(r.markdown).not.toContain('## Paired differences');
  });
});

describe('renderBarChartPng', () => {
  it('draws bars to their values and whiskers to the CI ends', () => {
    const width = 300;
    const height = 240;
    const png = decodePng(
      renderBarChartPng(
        [
          { label: 'A', bars: [{ value: 50, lo: 40, hi: 60 }, null] },
          { label: 'B', bars: [{ value: 100 }, { value: 25 }] },
        ],
        { width, height, series: ['one', 'two'], yMax: 100 },
      ),
    );
    expect([png.width, png.height]).toEqual([width, height]);
    // the layout of renderBarChartPng: left 70, right 20, top 16 + 16 per legend row, bottom 36
    const top = 32;
    const bottom = height - 36;
    const y = (v: number) => Math.round(bottom - (v / 100) * (bottom - top));
    const groupWidth = (width - 90) / 2;
    const barWidth = (groupWidth * 0.8) / 2;
    const barX = (g: number, i: number) => Math.round(70 + g * groupWidth + groupWidth * 0.1 + (i + 0.25) * barWidth);
    expect(png.pixel(barX(0, 0), y(25))).toEqual(BLUE);
    expect(png.pixel(barX(0, 0), y(55))).not.toEqual(BLUE); // above the bar: background or whisker
    expect(png.pixel(barX(0, 1), y(10))).toEqual([255, 255, 255]); // no bar for series two in group A
    expect(png.pixel(barX(1, 0), y(95))).toEqual(BLUE);
    expect(png.pixel(barX(1, 1), y(20))).toEqual(ORANGE);
    expect(png.pixel(barX(1, 1), y(40))).not.toEqual(ORANGE);
    // the whisker of group A's bar: dark at its centre from 40 to 60
    const centre = Math.round((70 + groupWidth * 0.1 + 1 + (70 + groupWidth * 0.1 + barWidth - 2)) / 2);
    for (const v of [42, 50, 58]) expect(png.pixel(centre, y(v))).toEqual([60, 60, 60]);
  });
});

describe('published results', () => {
  it('match case-insensitively on names, aliases and org-prefixed names; unknown names match nothing', () => {
    expect(findPublished(['QWEN2.5-7B-INSTRUCT'])?.scores).toEqual({
      aime24: 12.8,
      aime25: 8.0,
      hmmt25: 2.7,
      'lcb-v5': 14.7,
      'lcb-v6': 13.7,
      codeforces: 706,
    });
    expect(findPublished([undefined, 'nothing', 'PromptCoT 2.0 SFT 7B'])?.table).toBe('sft-7b');
    expect(findPublished(['Qwen3-30B-A3B-Thinking-2507 + PromptCoT 2.0'])?.name).toBe('PromptCoT-2.0-SelfPlay-30B-A3B');
    expect(findPublished(['Ring-Lite-2506'])?.scores).toEqual({ aime24: 76.6, aime25: 69.1, 'lcb-v5': 60.7 });
    expect(findPublished(['PromptCoT 2.0'])).toBeUndefined(); // ambiguous across tables: no key
    expect(findPublished(['qwen3-4b-thinking'])).toBeUndefined();
    expect(normalizeModelName('org/PromptCoT_2.0-SFT 7B')).toBe('promptcot2.0sft7b');
  });

  it('holds every row of the spec §5.3 tables under a distinct name', () => {
    const byTable: Record<string, number> = {};
    for (const p of Object.values(PUBLISHED)) byTable[p.table] = (byTable[p.table] ?? 0) + 1;
    expect(byTable).toEqual({
      'self-play-30b': 7,
      'readme-figure': 4,
      'self-play-4b': 7,
      'sft-7b': 8,
      'ablation-7b': 2,
      'ring-lite': 2,
    });
    expect(PUBLISHED['PromptCoT-2.0-SFT-7B']!.details).toEqual({
      src: 'S',
      teacher: 'GPT-OSS-120B-m',
      size: '4.77M',
      len: '7351.2',
    });
    expect(PUBLISHED['Qwen3-4B-Thinking-2507 + OpenMathReasoning']!.scores['lcb-v6']).toBe(48.5);
    expect(PUBLISHED['Qwen3-30B-A3B-Thinking-2507 + PromptCoT 1.0']!.scores.codeforces).toBe(2051);
  });
});
