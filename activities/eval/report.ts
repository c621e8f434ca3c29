// The evaluation report (issue 15, spec §5.3): a Markdown report in the paper's table layout — one row of ours per
// model, with the paper's published numbers for the same model in the row below ("—" where the paper has none) —
// then per benchmark the detail metrics, and the paired differences between models; a PNG bar chart of avg@k per
// benchmark and model with the bootstrap CI as whiskers; and the same content as JSON. Pure: the caller writes the
// three (through DatasetStore.writeAtomic).
import { formatEstimate, type BenchmarkMetrics, type Estimate, type PairedDifference } from '../../domain/eval/metrics';
import {
  findPublished,
  PAPER_COLUMNS,
  PUBLISHED_TABLES,
  type PaperBenchmark,
  type PublishedResult,
} from '../../domain/eval/published';
import { renderBarChartPng } from '../reports/plot';

export interface ReportedModel {
  /** the name in the report */
  label: string;
  /** the served model name */
  model?: string;
  /** the model version it names */
  version?: string;
}

export interface ReportedElo {
  rating: number | null;
  /** percent of rated users below the rating (0–100) */
  percentile: number | null;
  contests: number;
  reasonIfNone?: string;
}

export interface ReportedResult {
  /** the model's label */
  model: string;
  benchmark: string;
  metrics: BenchmarkMetrics;
  elo?: ReportedElo;
}

export interface ReportedComparison {
  a: string;
  b: string;
  benchmark: string;
  difference: PairedDifference;
}

export interface EvaluationReportInput {
  name: string;
  models: readonly ReportedModel[];
  results: readonly ReportedResult[];
  comparisons?: readonly ReportedComparison[];
}

export interface EvaluationReport {
  markdown: string;
  png: Buffer;
  json: Record<string, unknown>;
}

interface Column {
  benchmark: string;
  title: string;
}

const NONE = '—';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function row(values: readonly string[]): string {
  return `| ${values.map(cell).join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)];
}

function percent(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : NONE;
}

function tokens(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 10) / 10) : NONE;
}

/** An estimate, with "(m of n problems)" when it leaves problems out. */
function estimateOf(e: Estimate | undefined, problems: number): string {
  if (!e) return NONE;
  const text = formatEstimate(e);
  return e.problems < problems ? `${text} (${e.problems} of ${problems} problems)` : text;
}

function eloText(elo: ReportedElo | undefined): string {
  return elo && elo.rating !== null ? String(Math.round(elo.rating)) : NONE;
}

function publishedText(p: PublishedResult | undefined, benchmark: string): string {
  const v = p?.scores[benchmark as PaperBenchmark];
  if (v === undefined) return NONE;
  return benchmark === 'codeforces' ? String(v) : v.toFixed(1);
}

function publishedSource(p: PublishedResult): string {
  return `${PUBLISHED_TABLES[p.table]}, row "${p.row}"`;
}

export function evaluationReport(input: EvaluationReportInput): EvaluationReport {
  const models: ReportedModel[] = [...input.models];
  for (const r of input.results) if (!models.some((m) => m.label === r.model)) models.push({ label: r.model }); // results of an unlisted model
  const published = new Map(models.map((m) => [m.label, findPublished([m.version, m.model, m.label])]));
  const result = new Map(input.results.map((r) => [`${r.model}\u0000${r.benchmark}`, r]));
  const resultOf = (model: string, benchmark: string) => result.get(`${model}\u0000${benchmark}`);

  // the paper's six columns, then any other benchmark in the order the results name it
  const columns: Column[] = PAPER_COLUMNS.map((c) => ({ benchmark: c.benchmark, title: c.title }));
  for (const r of input.results)
    if (!columns.some((c) => c.benchmark === r.benchmark)) columns.push({ benchmark: r.benchmark, title: r.benchmark });
  const evaluated = columns.filter((c) => input.results.some((r) => r.benchmark === c.benchmark));

  const lines: string[] = [`# Evaluation: ${input.name}`, ''];
  lines.push(
    'Ours: avg@k in percent (the mean over runs of pass@1; k = runs per problem) as mean ± standard error ' +
      '[95% bootstrap CI over problems]; CF: the Codeforces Elo rating (DeepCoder’s method). Paper: the published ' +
      'numbers (spec §5.3) of the same model, matched on its version, model or label; "—" where there are none.',
    '',
  );
  const notes: string[] = [];
  const mainRows: string[][] = [];
  for (const m of models) {
    mainRows.push([
      m.label,
      'ours',
      ...columns.map((c) => {
        const r = resultOf(m.label, c.benchmark);
        if (!r) return NONE;
        if (c.benchmark === 'codeforces') {
          if (!r.elo) notes.push(`${m.label}, CF: no Elo computed; its pass rates are in the codeforces details.`);
          else if (r.elo.rating === null)
            notes.push(`${m.label}, CF: no Elo: ${r.elo.reasonIfNone ?? 'no contest could be rated'}.`);
          return eloText(r.elo);
        }
        return formatEstimate(r.metrics.avgAtK);
      }),
    ]);
    const p = published.get(m.label);
    mainRows.push(['', p ? `paper (${p.name})` : 'paper', ...columns.map((c) => publishedText(p, c.benchmark))]);
  }
  lines.push(...table(['model', '', ...columns.map((c) => c.title)], mainRows), '');
  const sources = models.flatMap((m) => {
    const p = published.get(m.label);
    return p ? [`- ${m.label}: ${publishedSource(p)}.`] : [];
  });
  if (sources.length > 0) lines.push('Published numbers:', '', ...sources, '');
  if (notes.length > 0) lines.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  if (evaluated.length > 0)
    lines.push(
      'The chart shows avg@k in percent per benchmark and model (CF: the pass rate over its runs), with the 95% ' +
        'bootstrap CI as whiskers.',
      '',
    );

  for (const c of evaluated) {
    const rows = models.flatMap((m) => {
      const r = resultOf(m.label, c.benchmark);
      return r ? [{ model: m.label, r }] : [];
    });
    const ks = (pick: (m: BenchmarkMetrics) => Record<string, Estimate> | null) =>
      [...new Set(rows.flatMap(({ r }) => Object.keys(pick(r.metrics) ?? {})))].sort((a, b) => Number(a) - Number(b));
    const passKs = ks((m) => m.passAtK);
    const majKs = ks((m) => m.majAtK);
    const elo = c.benchmark === 'codeforces' && rows.some(({ r }) => r.elo);
    const header = [
      'model',
      'problems',
      'runs',
      'cells',
      'avg@k',
      ...passKs.map((k) => `pass@${k}`),
      ...majKs.map((k) => `maj@${k}`),
      'no answer',
      'truncated',
      'tokens mean',
      'tokens median',
      ...(elo ? ['Elo', 'percentile', 'contests'] : []),
    ];
    let oneRun = false;
    const body = rows.map(({ model, r }) => {
      const m = r.metrics;
      const avg = formatEstimate(m.avgAtK) + (m.avgAtK.spread === 'problems' ? ' †' : '');
      oneRun ||= m.avgAtK.spread === 'problems';
      return [
        model,
        String(m.problems),
        String(m.runs),
        String(m.cells),
        avg,
        ...passKs.map((k) => estimateOf(m.passAtK[k], m.problems)),
        ...majKs.map((k) => estimateOf(m.majAtK?.[k], m.problems)),
        percent(m.noAnswerRate),
        percent(m.truncationRate),
        tokens(m.outputTokens.mean),
        tokens(m.outputTokens.median),
        ...(elo
          ? [
              eloText(r.elo),
              r.elo?.percentile !== null && r.elo?.percentile !== undefined ? `${r.elo.percentile.toFixed(1)}%` : NONE,
              r.elo ? String(r.elo.contests) : NONE,
            ]
          : []),
      ];
    });
    lines.push(`## ${c.title === c.benchmark ? c.benchmark : `${c.title} (${c.benchmark})`}`, '');
    lines.push(...table(header, body), '');
    if (oneRun) lines.push('† one run per problem: the standard error is over problems, not runs.', '');
  }

  const comparisons = input.comparisons ?? [];
  if (comparisons.length > 0) {
    lines.push(
      '## Paired differences',
      '',
      'b − a in percentage points: per problem the difference of the mean correctness, averaged over the problems ' +
        'both models have; ± standard error [95% bootstrap CI over those problems].',
      '',
    );
    const body = comparisons.map((cmp) => {
      const d = cmp.difference;
      const excluded = d.onlyInA + d.onlyInB;
      return [
        cmp.benchmark,
        cmp.a,
        cmp.b,
        excluded > 0 ? `${d.problems} (${excluded} left out)` : String(d.problems),
        formatEstimate(d),
        d.ci[0] > 0 || d.ci[1] < 0 ? 'yes' : 'no',
      ];
    });
    lines.push(...table(['benchmark', 'a', 'b', 'problems', 'b − a', 'CI excludes 0'], body), '');
  }

  const chartColumns = evaluated.map((c) => ({ ...c, title: c.benchmark === 'codeforces' ? 'CF' : c.title }));
  const png = renderBarChartPng(
    chartColumns.map((c) => ({
      label: c.title,
      bars: models.map((m) => {
        const e = resultOf(m.label, c.benchmark)?.metrics.avgAtK;
        return e ? { value: e.mean * 100, lo: e.ci[0] * 100, hi: e.ci[1] * 100 } : null;
      }),
    })),
    {
      width: Math.max(640, 100 + chartColumns.length * (models.length * 24 + 40)),
      height: 420,
      series: models.map((m) => m.label),
      yMax: 100,
    },
  );

  const json: Record<string, unknown> = {
    name: input.name,
    columns,
    models: models.map((m) => {
      const p = published.get(m.label);
      return {
        ...m,
        published: p
          ? { name: p.name, table: p.table, tableTitle: PUBLISHED_TABLES[p.table], row: p.row, scores: p.scores }
          : null,
      };
    }),
    results: input.results,
    comparisons,
  };
  return { markdown: lines.join('\n'), png, json };
}
