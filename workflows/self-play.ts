// selfPlay (spec §3): verifiable rewards for a mixed code + math prompt corpus, then rounds of
//   k rollouts of the policy per prompt → a verdict per rollout (sandbox tests / math verifier) → chosen/rejected
//   pairs and the round report → DPO of the policy by the external trainer → the new policy serves the next round.
//
// Before the first round: import (bad lines set aside), prepareSelfPlayPrompt (contamination, math prompt filters),
// constructReward (written tests or the given ones; reference or majority-vote answers), and with
// `crossCheck.solutions` > 0 crossCheckTests (written expected outputs checked by policy solutions). Every step has a
// deterministic name (stage child ids, dataset names, the training job), so a retried step or a re-run with the same
// name redoes nothing that finished; each round ends with continue-as-new carrying the small state.
// Operable: `pause` / `resume`, a failed step waits for `retryStep` or `abandon`, `skipTraining` (the running or
// next training is cancelled and the policy stays), `stop` (the run ends after the step in progress, cancelling a
// running training), and a `status` query.
import {
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  setHandler,
} from '@temporalio/workflow';
import type { SelfPlayActivities, BuildPairsResult } from '../activities/self-play/pairs';
import type { DatasetRef } from '../domain/core/dataset';
import type { ModelVersion } from '../domain/core/models';
import type { PipelineProgress } from '../domain/core/progress';
import { SelfPlayInputSchema, type SelfPlayInput, type SelfPlayParsed } from '../domain/self-play';
import type { TrainResult } from '../domain/platform/training';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { bookkeepingActivities, datasetActivities, pipelinePrompts } from './bookkeeping';
import { baseOf, RunStopped, stepRunner, trainingActivities, type StepStatus } from './steps';
import { parseWorkflowInput } from './validate';

export type TrainingOutcome = 'trained' | 'skipped' | 'stopped' | 'disabled' | 'no-pairs';

export interface RoundRecord {
  round: number;
  /** the policy that sampled this round's rollouts */
  policy: ModelVersion;
  datasets: { rollouts: string; scored: string; pairs: string };
  pairs: DatasetRef;
  report: string;
  summary: BuildPairsResult['summary'];
  training: TrainingOutcome;
  /** the policy after this round */
  trained?: ModelVersion;
}

export interface SelfPlayState {
  /** the next round to run (1-based) */
  round: number;
  policy: ModelVersion;
  /** every prompt line given (kept by the import or not) */
  prompts: number;
  /** the prompts with verifiable rewards */
  rewarded: DatasetRef;
  /** rejects files of the import and the steps before the rounds */
  rejectFiles: string[];
  rounds: RoundRecord[];
  paused?: boolean;
  /** a skipTraining signal not used yet carries over to the next round's training */
  skipTraining?: boolean;
}

export interface SelfPlayStatus extends StepStatus {
  round: number;
  paused: boolean;
  stopRequested: boolean;
  skipTrainingRequested: boolean;
  policy: ModelVersion;
  rounds: RoundRecord[];
}

export interface SelfPlayResult {
  rounds: RoundRecord[];
  policy: ModelVersion;
  stoppedBecause: 'rounds' | 'stopped';
}

/** The report files of every round so far. */
function roundReports(before: RoundRecord[], latest: RoundRecord): string[] {
  return [...before.map((r) => r.report), latest.report];
}

export const selfPlayStatusQuery = defineQuery<SelfPlayStatus>('status');
export const skipTrainingSignal = defineSignal('skipTraining');
export const stopSignal = defineSignal('stop');

export async function selfPlay(raw: SelfPlayInput, carried?: SelfPlayState): Promise<SelfPlayResult> {
  const input: SelfPlayParsed = parseWorkflowInput(SelfPlayInputSchema, raw);
  // handlers first: a query or signal may come before the first await returns
  const status: SelfPlayStatus = {
    round: carried?.round ?? 0,
    step: 'start',
    paused: false,
    stopRequested: false,
    skipTrainingRequested: carried?.skipTraining ?? false,
    policy: carried?.policy ?? input.policy,
    rounds: carried?.rounds ?? [],
  };
  const progress: PipelineProgress = { pipeline: 'selfPlay', phase: 'start', finishedStages: [], notes: [] };
  const runner = stepRunner(status, progress, {
    ...input,
    paused: carried?.paused,
    stopRequested: () => status.stopRequested,
  });
  const { step, stage } = runner;
  setHandler(selfPlayStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: "The round and step, pause/stop/skip requests, a failed step, the policy and every round's summary",
  });
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  if (carried)
    view.context = `round ${carried.round} of ${input.rounds}: each round is one run of this workflow id (continue-as-new), so follow "Latest Execution"`;
  setHandler(skipTrainingSignal, () => void (status.skipTrainingRequested = true), {
    description: 'Cancels the running training (or the next one); the policy stays as it is',
  });
  setHandler(stopSignal, () => void (status.stopRequested = true), {
    description: 'Ends the run after the step in progress (a running training is cancelled); works while paused too',
  });
  return followRun(progress, () => play());

  async function play(): Promise<SelfPlayResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const { taskQueues } = deployment;
    const selfPlayActivities = datasetActivities<SelfPlayActivities>(taskQueues.cpu);
    const training = trainingActivities(taskQueues.training);
    const finish = (
      state: { rounds: RoundRecord[]; policy: ModelVersion },
      stoppedBecause: SelfPlayResult['stoppedBecause'],
    ): SelfPlayResult => {
      status.step = progress.phase = stoppedBecause === 'stopped' ? 'stopped' : 'done';
      return { rounds: state.rounds, policy: state.policy, stoppedBecause };
    };

    try {
      return await runRound();
    } catch (err) {
      // a stop request ends the run before the next step (see stepRunner)
      if (err instanceof RunStopped) return finish({ rounds: status.rounds, policy: status.policy }, 'stopped');
      throw err;
    }

    async function runRound(): Promise<SelfPlayResult> {
      let state: SelfPlayState;
      if (carried) state = carried;
      else {
        const given = await pipelinePrompts(step, input, bookkeeping);
        const prompts = given.dataset;
        const total = given.lines;
        const rejectFiles: string[] = given.rejects ? [given.rejects] : [];
        // the prompt files are the reference corpus of stock phrasing (same commands as before: only the params grow)
        const prepareParams = {
          contamination: input.contamination,
          ...(input.promptFiles ? { corpusFiles: input.promptFiles } : {}),
        };
        const prepared = await step('prepare', () =>
          stage('prepare', 'prepareSelfPlayPrompt', prepareParams, prompts, `${input.name}/prepared`),
        );
        const rewarded = await step('rewards', () =>
          stage(
            'rewards',
            'constructReward',
            { seed: input.seed, testCases: input.testCases, mathAnswers: input.mathAnswers },
            prepared.output,
            `${input.name}/rewarded`,
          ),
        );
        rejectFiles.push(...prepared.rejects, ...rewarded.rejects);
        let verified = rewarded.output;
        if (input.crossCheck.solutions > 0) {
          const checked = await step('cross-check', () =>
            stage(
              'cross-check',
              'crossCheckTests',
              { seed: input.seed, crossCheck: input.crossCheck, minTests: input.testCases.minTests },
              rewarded.output,
              `${input.name}/cross-checked`,
              { itemConcurrency: input.rewardItemConcurrency },
            ),
          );
          rejectFiles.push(...checked.rejects);
          verified = checked.output;
        }
        state = { round: 1, policy: input.policy, prompts: total, rewarded: verified, rejectFiles, rounds: [] };
      }
      status.policy = state.policy;
      if (status.stopRequested) return finish(state, 'stopped');

      const r = state.round;
      status.round = r;
      const at = `round-${r}`;
      const policy = state.policy;
      const rollouts = await step(`${at}/rollouts`, () =>
        stage(
          `${at}/rollouts`,
          'sampleRollouts',
          {
            model: policy.model,
            endpoint: policy.endpoint,
            k: input.k,
            sampling: input.rollouts,
            seed: input.seed,
            round: r,
            reuseCompletions: r === 1,
          },
          state.rewarded,
          `${input.name}/${at}/rollouts`,
        ),
      );
      const scored = await step(`${at}/scoring`, () =>
        stage(`${at}/scoring`, 'scoreRollout', {}, rollouts.output, `${input.name}/${at}/scored`, {
          itemConcurrency: input.rewardItemConcurrency,
        }),
      );
      const built = await step(`${at}/pairs`, () =>
        selfPlayActivities.buildSelfPlayPairs({
          name: input.name,
          round: r,
          seed: input.seed,
          k: input.k,
          scored: scored.output,
          rewarded: state.rewarded,
          output: `${input.name}/${at}/pairs`,
          difficulty: input.difficulty,
          maxPairsPerPrompt: input.maxPairsPerPrompt,
          shardSize: input.shardSize,
          prompts: state.prompts,
          sampledPrompts: rollouts.counts.kept,
          unscoredRollouts: scored.counts.rejected + scored.counts.failed,
          rejectFiles: [...state.rejectFiles, ...rollouts.rejects],
          policy,
        }),
      );
      if (!built.summary.addsUp) progress.notes.push(`${at}: the report's counts do not add up (see ${built.report})`);

      let outcome: TrainingOutcome;
      let trained: ModelVersion | undefined;
      if (status.stopRequested) outcome = 'stopped';
      else if (!input.training.enabled) outcome = 'disabled';
      else if (built.summary.pairs === 0) {
        outcome = 'no-pairs';
        progress.notes.push(`${at}: no pairs, so no training; the policy stays`);
      } else {
        const result = await step(
          `${at}/train`,
          async (): Promise<TrainResult | 'skipped' | 'stopped'> => {
            if (status.skipTrainingRequested) {
              status.skipTrainingRequested = false;
              return 'skipped';
            }
            // the trainer may run for days: wait for it, or for a skip / stop, which cancels it
            const scope = new CancellationScope();
            let done: { ok: TrainResult } | { err: unknown } | undefined;
            const running = scope
              .run(() =>
                training.train({
                  job: `${input.name}/${at}/policy`,
                  kind: 'dpo',
                  role: 'policy',
                  base: baseOf(policy),
                  data: built.pairs,
                  hyperparameters: input.training.hyperparameters,
                }),
              )
              .then(
                (ok) => void (done = { ok }),
                (err: unknown) => void (done = { err }),
              );
            await condition(() => done !== undefined || status.skipTrainingRequested || status.stopRequested);
            if (done === undefined) {
              scope.cancel();
              await running;
              if (status.stopRequested) return 'stopped';
              status.skipTrainingRequested = false;
              return 'skipped';
            }
            if ('err' in done) throw done.err;
            return done.ok;
          },
          `${input.name}/${at}/policy`,
        );
        if (result === 'skipped' || result === 'stopped') {
          outcome = result;
          progress.notes.push(`${at}: training ${result} by signal; the policy stays ${policy.version}`);
        } else {
          trained = await step(`${at}/activate`, () => training.activateModel({ role: 'policy', trained: result }));
          outcome = 'trained';
        }
      }

      const record: RoundRecord = {
        round: r,
        policy,
        datasets: { rollouts: rollouts.output.name, scored: scored.output.name, pairs: built.pairs.name },
        pairs: built.pairs,
        report: built.report,
        summary: built.summary,
        training: outcome,
        ...(trained ? { trained } : {}),
      };
      view.memo({
        output: built.pairs.manifest,
        reports: roundReports(state.rounds, record),
        rejects: state.rejectFiles,
      });
      const rounds = [...state.rounds, record];
      const next: SelfPlayState = {
        ...state,
        round: r + 1,
        policy: trained ?? policy,
        rounds,
        paused: runner.paused,
        skipTraining: status.skipTrainingRequested,
      };
      status.rounds = rounds;
      status.policy = next.policy;
      if (status.stopRequested) return finish(next, 'stopped');
      if (r >= input.rounds) return finish(next, 'rounds');
      return continueAsNew<typeof selfPlay>(raw, next);
    }
  }
}
