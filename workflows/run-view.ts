// What a pipeline run shows in the Temporal Web UI while it goes: current details (Markdown: step, progress bar,
// kept/rejected, what it waits for, files to look at), the project's search attributes (pipeline, name, run key,
// step, state: upserted as they change, only those the deployment has registered), and a memo of its output
// manifest, rejects and report paths. Every pipeline gets one from trackProgress (run-stage.ts); runStage and the
// step runner (steps.ts) keep it up to date.
//
// Search attributes and memos are commands: they are recorded only in runs that have the `run-view-v1` patch, so
// histories recorded before it replay unchanged. Current details are not commands (the UI reads them by query).
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ContinueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineProgress } from '../domain/core/progress';
import {
  renderRunDetails,
  SEARCH_ATTRIBUTE_NAMES,
  type RunState,
  type SearchAttributeName,
} from '../domain/core/run-view';

/** The one patch id of the run view's commands (search attribute and memo upserts, the deployment look-up). */
export const RUN_VIEW_PATCH = 'run-view-v1';

const KEYS = Object.fromEntries(
  SEARCH_ATTRIBUTE_NAMES.map((name) => [name, defineSearchAttributeKey(name, SearchAttributeType.KEYWORD)]),
) as Record<SearchAttributeName, ReturnType<typeof defineSearchAttributeKey<'KEYWORD'>>>;

const ENDED = new Set(['done', 'failed', 'cancelled', 'stopped']);

export interface RunIdentity {
  name?: string;
  /** defaults to the workflow id */
  runKey?: string;
}

/** What the memo holds: where the run's results are (paths relative to the storage root). */
export interface RunMemo {
  output?: string | string[];
  rejects?: string[];
  reports?: string[];
}

const views = new WeakMap<PipelineProgress, RunView>();

/** The run view of a pipeline's progress (created by trackProgress), if it has one. */
export function runViewOf(progress: PipelineProgress): RunView | undefined {
  return views.get(progress);
}

export class RunView {
  /** Whether this run records the view's commands (false while replaying a history from before the patch). */
  readonly recording: boolean;
  readonly workflowId = workflowInfo().workflowId;
  state: RunState = 'running';
  /** Markdown: what the run waits for now (a failed step and how to retry it, a pause and the next step, …). */
  waitingFor?: string;
  /** Files worth a look (reports, rejects, outputs), newest last. */
  readonly files: string[] = [];
  context?: string;
  private lastStep: string;
  private registered: SearchAttributeName[] = [];
  private readonly sent = new Map<SearchAttributeName, string>();

  constructor(
    readonly progress: PipelineProgress,
    readonly identity: RunIdentity = {},
  ) {
    this.recording = patched(RUN_VIEW_PATCH);
    this.lastStep = progress.phase;
    views.set(progress, this);
    this.update();
  }

  /** Uses the search attributes that describeDeployment found registered (none: nothing is upserted). */
  useSearchAttributes(names: readonly string[] | undefined): void {
    const known = new Set(names ?? []);
    this.registered = SEARCH_ATTRIBUTE_NAMES.filter((n) => known.has(n));
    this.update();
  }

  addFiles(...files: Array<string | undefined>): void {
    for (const f of files) if (f && !this.files.includes(f)) this.files.push(f);
  }

  /** Renders the current details and upserts the search attributes that changed. */
  update(): void {
    const p = this.progress;
    if (!ENDED.has(p.phase)) this.lastStep = p.phase;
    setCurrentDetails(
      renderRunDetails({
        pipeline: p.pipeline,
        name: this.identity.name,
        workflowId: this.workflowId,
        state: this.state,
        progress: p,
        waitingFor: this.waitingFor,
        files: this.files,
        context: [this.context, this.resumedText].filter((t) => t).join('; ') || undefined,
      }),
    );
    if (!this.recording || this.registered.length === 0) return;
    const values: Record<SearchAttributeName, string> = {
      PromptcotPipeline: p.pipeline,
      PromptcotName: this.identity.name ?? '',
      PromptcotRunKey: this.identity.runKey ?? this.workflowId,
      PromptcotStep: this.lastStep,
      PromptcotState: this.state,
    };
    const changed: SearchAttributeUpdatePair[] = [];
    for (const name of this.registered) {
      const value = values[name].slice(0, 250);
      if (value === '' || this.sent.get(name) === value) continue;
      this.sent.set(name, value);
      changed.push({ key: KEYS[name], value });
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  private readonly reusedStages = new Map<string, { shards: number; of: number }>();
  private resumedText?: string;

  /** A stage found shards an earlier run (same workflow id or names) had finished: the details say so. */
  reused(stage: string, shards: number, of: number): void {
    this.reusedStages.set(stage, { shards, of });
    const all = [...this.reusedStages.values()];
    const whole = all.filter((s) => s.shards === s.of).length;
    const text = `resumed: ${whole} finished stage${whole === 1 ? '' : 's'} reused as ${whole === 1 ? 'it was' : 'they were'}${
      all.length > whole
        ? `, and ${all.length - whole} partly (${all.reduce((n, s) => n + (s.shards < s.of ? s.shards : 0), 0)} finished shards)`
        : ''
    }, from an earlier run with the same names`;
    this.resumedText = text;
  }

  /** Records where the results are in the memo (and lists them in the details). */
  memo(memo: RunMemo): void {
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    this.addFiles(...list(memo.output), ...list(memo.reports), ...list(memo.rejects));
    if (this.recording) {
      // a memo should stay small: long reject lists are cut (the details say how many there are)
      const rejects = memo.rejects && memo.rejects.length > 20 ? [...memo.rejects.slice(0, 20), '…'] : memo.rejects;
      upsertMemo({ ...memo, ...(rejects ? { rejects } : {}) });
    }
    this.update();
  }

  /** The run ended: its phase and state say how (done, stopped, failed, cancelled). */
  ended(state: Extract<RunState, 'done' | 'stopped' | 'failed' | 'cancelled'>): void {
    this.state = state;
    this.progress.phase = state;
    this.progress.currentStage = undefined;
    if (state === 'done' || state === 'stopped') this.waitingFor = undefined;
    this.update();
  }
}

/**
 * Runs a pipeline's body and records how it ended: done (or stopped, when the body set that phase), failed or
 * cancelled; a continue-as-new passes through (the next run reports on its own).
 */
export async function followRun<T>(progress: PipelineProgress, body: () => Promise<T>): Promise<T> {
  const view = runViewOf(progress);
  try {
    const result = await body();
    view?.ended(progress.phase === 'stopped' ? 'stopped' : 'done');
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (view) {
      if (isCancellation(err)) view.ended('cancelled');
      else {
        view.waitingFor = `nothing: the run failed at step \`${progress.phase}\`: ${errorText(err)}`;
        view.ended('failed');
      }
    } else progress.phase = isCancellation(err) ? 'cancelled' : 'failed';
    throw err;
  }
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e && parts.length < 4; e = e.cause as typeof e)
    if (e.message) parts.push(e.message);
  return parts.join(': ').slice(0, 500);
}
