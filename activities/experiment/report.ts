// The experiment report: one Markdown page (and the same as HTML) per experiment under reports/<name>/, with the
// steps and their outcome, the EM curve, the corpus counts with dedup and drop rules, the self-play rounds, the SFT
// counts, the evaluation table with CIs against the paper's numbers (the evaluation's own report, embedded), and
// the spend per step, role and model; PNG plots beside it.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { DatasetRef } from '../../domain/core/dataset';
import { spendTokens, tokensByRole, type SpendEntry } from '../../domain/core/spend';
import { renderCorpusAnalysisSection, type CorpusAnalysis } from '../../domain/analyze-corpora';
import type { Budget, ExperimentModel } from '../../domain/experiment';
import type { SynthesisResult } from '../../domain/synthesize-corpus';
import type { ColdStartResult } from '../../workflows/cold-start';
import type { EmResult } from '../../workflows/em-rationale-loop';
import type { EvaluateResult } from '../../workflows/evaluate';
import type { ExperimentStepView } from '../../workflows/promptcot-experiment';
import type { SelfPlayResult } from '../../workflows/self-play';
import type { SftDistillResult } from '../../workflows/sft-distill';
import type { DatasetStore } from '../datasets/store';
import { renderBarChartPng, renderLinePlotPng } from '../reports/plot';
import { markdownToHtml } from '../reports/markdown-html';
import type { CostedSpend, StepRecord } from './ledger';
import type { TrainingPromptsResult } from './prompts';

export interface ExperimentReportInput {
  name: string;
  workflowId: string;
  steps: ExperimentStepView[];
  records: Record<string, StepRecord>;
  budget: Budget;
  spent: SpendEntry[];
  cold?: ColdStartResult;
  em?: EmResult;
  corpora: Array<{ domain: string; dataset: DatasetRef; synthesis?: SynthesisResult }>;
  prompts?: TrainingPromptsResult;
  selfPlay?: SelfPlayResult;
  sft?: SftDistillResult;
  evaluation?: EvaluateResult;
  /** the corpus analyses (analyzeCorpora), when the experiment ran them */
  analysis?: CorpusAnalysis;
  models: ExperimentModel[];
}

export interface ExperimentReportResult {
  markdown: string;
  html: string;
  json: string;
  plots: string[];
}

const fmt = (n: number, digits = 4) => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

function table(head: string[], rows: Array<Array<string | number>>): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => String(c)).join(' | ')} |`),
  ];
}

/** The report's Markdown, and the data of its plots (pure: the tests check it line by line). */
export function experimentReport(input: ExperimentReportInput, evaluationMarkdown?: string) {
  const lines: string[] = [`# PromptCoT experiment: ${input.name}`, ''];
  lines.push(
    `Workflow \`${input.workflowId}\`. Steps in order, each a child pipeline named \`${input.name}/<step>\`.`,
    '',
  );
  lines.push(
    ...table(
      ['step', 'outcome', 'tokens', 'estimate (upper bound)', 'note'],
      input.steps.map((s) => {
        const r = input.records[s.step];
        const estimate = r?.estimate ? Object.values(r.estimate).reduce((a, b) => a + b, 0) : 0;
        return [s.step, s.state, s.tokens ?? 0, estimate || '—', s.reason ?? ''];
      }),
    ),
    '',
  );

  if (input.cold) {
    lines.push('## Cold start', '');
    lines.push(
      `Seed problems imported: ${input.cold.imported} (rejected at import: ${input.cold.rejectedAtImport}); ` +
        `concept records: ${input.cold.concepts.counts.kept} kept of ${input.cold.concepts.counts.items}; ` +
        `seed triples: ${input.cold.triples.counts.kept} kept of ${input.cold.triples.counts.items} ` +
        `(rejected ${input.cold.triples.counts.rejected}, failed ${input.cold.triples.counts.failed}).`,
      '',
    );
  }

  let emCurve: Array<{ x: number; y: number }> = [];
  if (input.em) {
    lines.push('## EM rationale loop', '');
    lines.push(
      `Stopped because: ${input.em.stoppedBecause}. p_theta after EM: \`${input.em.models.promptGenerator.version}\`.`,
      '',
    );
    lines.push(
      ...table(
        ['iteration', 'items', 'unscored', 'candidates', 'mean R', 'median R', 'NLL/token of x', 'changed'],
        input.em.iterations.map((it) => [
          it.iteration,
          it.eStep.items,
          it.eStep.unscored,
          it.eStep.candidates,
          fmt(it.eStep.meanReward),
          fmt(it.eStep.medianReward),
          fmt(it.eStep.meanNllPerTokenX),
          fmt(it.eStep.changedFraction, 3),
        ]),
      ),
      '',
      '![mean reward per EM iteration](em-curve.png)',
      '',
    );
    emCurve = input.em.iterations
      .map((it) => ({ x: it.iteration, y: it.eStep.meanReward }))
      .filter((p) => Number.isFinite(p.y));
  }

  if (input.corpora.length > 0) {
    lines.push('## Corpora', '');
    lines.push(
      ...table(
        [
          'domain',
          'generated',
          'parsed',
          'rejected (unparseable, filters)',
          'failed',
          'exact dup.',
          'near dup.',
          'kept',
        ],
        input.corpora.map((c) => {
          const t = c.synthesis?.totals;
          if (!t) return [c.domain, 'given', '', '', '', '', '', c.dataset.items];
          return [c.domain, t.generated, t.parsed, t.rejected, t.failed, t.exactDuplicates, t.nearDuplicates, t.kept];
        }),
      ),
      '',
    );
    const rejects = input.corpora.flatMap((c) => c.synthesis?.rejects ?? []);
    if (rejects.length > 0)
      lines.push(`Duplicates, with what they duplicate: ${rejects.map((r) => `\`${r}\``).join(', ')}.`, '');
  }

  if (input.analysis) {
    // the analysis' own section; its plot is beside its own report, one folder down from this one
    const plot = input.analysis.files.plot;
    const here = path.posix.join('reports', input.name);
    lines.push(
      renderCorpusAnalysisSection(input.analysis, {
        heading: 'Corpus analyses: difficulty and diversity',
        ...(plot ? { plotPath: path.posix.relative(here, plot) } : {}),
      }),
      '',
    );
  }

  if (input.prompts) {
    lines.push('## Training prompts', '');
    lines.push(
      `${input.prompts.dataset.items} prompts: ${
        Object.entries(input.prompts.bySource)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ') || 'none'
      }.`,
      '',
    );
  }

  if (input.selfPlay) {
    lines.push('## Self-play', '');
    lines.push(
      ...table(
        ['round', 'policy', 'prompts', 'kept', 'pairs', 'dropped (rule: count)', 'training', 'report'],
        input.selfPlay.rounds.map((r) => [
          r.round,
          r.policy.version,
          r.summary.prompts,
          r.summary.kept,
          r.summary.pairs,
          Object.entries(r.summary.dropped)
            .filter(([, n]) => n > 0)
            .map(([rule, n]) => `${rule}: ${n}`)
            .join(', ') || 'none',
          r.training,
          `\`${r.report}\``,
        ]),
      ),
      '',
    );
  }

  if (input.sft) {
    const s = input.sft.summary;
    lines.push('## SFT distillation', '');
    lines.push(
      `Cells: ${s.cells}; rows kept: ${s.kept}; counts add up: ${s.addsUp ? 'yes' : 'NO'}; training: ${input.sft.training}; ` +
        `student after: \`${input.sft.student.version}\`. Report: \`${input.sft.report}\`.`,
      '',
      ...table(
        ['rule', 'dropped'],
        Object.entries(s.dropped)
          .filter(([, n]) => n > 0)
          .map(([rule, n]) => [rule, n]),
      ),
      '',
    );
  }

  if (input.evaluation) {
    lines.push('## Evaluation', '');
    lines.push(
      `Models: ${input.models.map((m) => `${m.label} (\`${m.version.version}\`)`).join(', ')}. Scorer \`${input.evaluation.scorer}\`; ` +
        `full report: \`${input.evaluation.summary.files.report}\`.`,
      '',
    );
    if (evaluationMarkdown) {
      // the evaluation's own tables, one heading level down
      const body = evaluationMarkdown.split('\n').filter((l, i) => !(i === 0 && l.startsWith('# ')));
      lines.push(...body.map((l) => (l.startsWith('#') ? `#${l}` : l)), '');
    }
  }

  lines.push('## Spend', '');
  const costed = input.steps.flatMap((s) =>
    (input.records[s.step]?.spend ?? []).map((e: CostedSpend) => ({ step: s.step, ...e })),
  );
  const anyCost = costed.some((e) => e.cost !== undefined);
  lines.push(
    ...table(
      [
        'step',
        'role',
        'endpoint',
        'model',
        'calls',
        'prompt tokens',
        'completion tokens',
        ...(anyCost ? ['cost'] : []),
      ],
      costed.map((e) => [
        e.step,
        e.role,
        e.endpoint,
        e.model,
        e.calls,
        e.promptTokens,
        e.completionTokens,
        ...(anyCost ? [e.cost === undefined ? '—' : e.cost.toFixed(4)] : []),
      ]),
    ),
    '',
  );
  const byRole = tokensByRole(input.spent);
  const total = spendTokens(input.spent);
  const budgetText = [
    input.budget.tokens.total !== undefined ? `total ${input.budget.tokens.total}` : undefined,
    ...Object.entries(input.budget.tokens.roles).map(([r, n]) => `${r} ${n}`),
    input.budget.wallClockHours !== undefined ? `wall clock ${input.budget.wallClockHours} h` : undefined,
  ].filter(Boolean);
  lines.push(
    `Tokens in all: ${total} (${
      Object.entries(byRole)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ') || 'none'
    }). Budget: ${budgetText.length > 0 ? budgetText.join(', ') : 'none set'}.`,
    '',
    '![tokens per step](spend.png)',
    '',
  );
  const spendBars = input.steps
    .filter((s) => (s.tokens ?? 0) > 0)
    .map((s) => ({ label: s.step.replace(/[^A-Za-z0-9-]/g, '-'), bars: [{ value: s.tokens ?? 0 }] }));
  return { markdown: lines.join('\n'), emCurve, spendBars, json: { ...input, evaluationMarkdown: undefined } };
}

export function createExperimentReportActivities(store: DatasetStore) {
  return {
    async writeExperimentReport(input: ExperimentReportInput): Promise<ExperimentReportResult> {
      const dir = store.resolve(path.join('reports', input.name));
      const evalReport = input.evaluation ? store.resolve(input.evaluation.summary.files.report) : undefined;
      const evaluationMarkdown =
        evalReport && (await store.fetch(evalReport)) ? await fsp.readFile(evalReport, 'utf8') : undefined;
      const report = experimentReport(input, evaluationMarkdown);
      const plots: string[] = [];
      if (report.emCurve.length > 0) {
        const png = path.join(dir, 'em-curve.png');
        await store.writeAtomic(png, renderLinePlotPng(report.emCurve, { width: 640, height: 400 }));
        plots.push(store.relative(png));
      }
      const spendPng = path.join(dir, 'spend.png');
      await store.writeAtomic(
        spendPng,
        renderBarChartPng(report.spendBars, { width: 720, height: 400, series: ['tokens'] }),
      );
      plots.push(store.relative(spendPng));
      const md = path.join(dir, 'experiment.md');
      const html = path.join(dir, 'experiment.html');
      const json = path.join(dir, 'experiment.json');
      await store.writeAtomic(md, report.markdown + '\n');
      await store.writeAtomic(html, markdownToHtml(report.markdown, `PromptCoT experiment: ${input.name}`));
      await store.writeAtomic(json, JSON.stringify(report.json, null, 2) + '\n');
      return { markdown: store.relative(md), html: store.relative(html), json: store.relative(json), plots };
    },
  };
}

export type ExperimentReportActivities = ReturnType<typeof createExperimentReportActivities>;
