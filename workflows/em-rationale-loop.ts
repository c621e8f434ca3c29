// emRationaleLoop (spec §1.4–1.5): cold start (or given seed triples) → warm start of q_φ and p_θ → EM iterations:
//   E-step: K rationales per (c, x) from q_φ → R(c,x,z) of each under p_θ → z* = argmax → SFT q_φ on (c, x) → z*
//   M-step: greedy rationales from the updated q_φ → SFT p_θ on c → (z, x)
// until `iterations` or until the mean reward improves by less than `minImprovement`.
//
// Durability: every step is a child stage workflow or an idempotent activity with a name derived from the run,
// the iteration and the step, so a retried or re-run step reuses what is finished (stage done markers and attempt
// files, `.done.json` of the dataset activities, `done.json` of training jobs). Each iteration ends with
// continue-as-new carrying the state (triples, model versions, metrics), so the history stays small however many
// iterations run. Operable: `pause` / `resume` signals (the loop stops between steps), a `status` query (iteration,
// step, model versions, metrics so far), and a failed step waits for a `retryStep` signal instead of failing the
// run (nothing completed is redone), or fails the run after `abandon`.
import { continueAsNew, defineQuery, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { EmActivities } from '../activities/em-rationale-loop/activities';
import type { DatasetRef } from '../domain/core/dataset';
import {
  converged,
  EmInputSchema,
  type EmInput,
  type EmParsed,
  type EmRole,
  type IterationRecord,
} from '../domain/em-rationale-loop';
import { type ModelVersion } from '../domain/core/models';
import type { PipelineProgress } from '../domain/core/progress';
import type { TrainResult } from '../domain/platform/training';
import { followRun, runViewOf } from './run-view';
import { trackProgress } from './run-stage';
import { bookkeepingActivities, datasetActivities } from './bookkeeping';
import { coldStart } from './cold-start';
import { baseOf, stepRunner, trainingActivities } from './steps';
import { parseWorkflowInput } from './validate';

export { pauseSignal, resumeSignal, retryStepSignal, abandonSignal } from './steps';

export interface EmState {
  /** the next iteration to run (1-based) */
  iteration: number;
  triples: DatasetRef;
  models: Record<EmRole, ModelVersion>;
  warmStarted: boolean;
  history: IterationRecord[];
  report?: { json: string; png: string };
  /** a pause carries over continue-as-new */
  paused?: boolean;
}

export interface EmStatus {
  iteration: number;
  step: string;
  paused: boolean;
  failed?: { step: string; message: string };
  models: Record<EmRole, ModelVersion>;
  history: IterationRecord[];
  currentStage?: { stage: string; workflowId: string };
}

export interface EmResult {
  iterations: IterationRecord[];
  models: Record<EmRole, ModelVersion>;
  triples: DatasetRef;
  report?: { json: string; png: string };
  stoppedBecause: 'iterations' | 'converged';
}

export const emStatusQuery = defineQuery<EmStatus>('status');
const ROLE_SHORT: Record<EmRole, string> = { rationaleModel: 'q_phi', promptGenerator: 'p_theta' };

export async function emRationaleLoop(raw: EmInput, carried?: EmState): Promise<EmResult> {
  const input: EmParsed = parseWorkflowInput(EmInputSchema, raw);
  const wf = workflowInfo().workflowId;
  // handlers first: a query or signal may come before the first await returns
  const status: EmStatus = {
    iteration: carried?.iteration ?? 0,
    step: 'start',
    paused: false,
    models: carried?.models ?? input.models,
    history: carried?.history ?? [],
  };
  const progress: PipelineProgress = { pipeline: 'emRationaleLoop', phase: 'start', finishedStages: [], notes: [] };
  const runner = stepRunner(status, progress, { ...input, paused: carried?.paused });
  const { step, stage } = runner;
  setHandler(emStatusQuery, () => ({ ...status, paused: runner.paused }), {
    description: 'The iteration and step, whether the run is paused, a failed step, the model versions and metrics',
  });
  trackProgress(progress, { name: input.name });
  const view = runViewOf(progress)!;
  if (carried)
    view.context = `iteration ${carried.iteration} of at most ${input.iterations}: each iteration is one run of this workflow id (continue-as-new), so follow "Latest Execution"`;
  return followRun(progress, () => iterate());

  async function iterate(): Promise<EmResult> {
    const bookkeeping = bookkeepingActivities();
    const deployment = await bookkeeping.describeDeployment();
    view.useSearchAttributes(deployment.searchAttributes);
    const { taskQueues } = deployment;
    const em = datasetActivities<EmActivities>(taskQueues.cpu, '6 hours');
    const training = trainingActivities(taskQueues.training);

    /** SFT of one model on triples, then the new version made available (vLLM LoRA load or a new endpoint). */
    async function trainOn(
      role: EmRole,
      triples: DatasetRef,
      job: string,
      hyperparameters: Record<string, number | string | boolean>,
    ): Promise<ModelVersion> {
      const data = await step(`${job}/data`, () =>
        em.buildSftData({ input: triples, output: `${input.name}/${job}/sft`, role, shardSize: input.shardSize }),
      );
      const trained: TrainResult = await step(
        `${job}/train`,
        () =>
          training.train({
            job: `${input.name}/${job}`,
            kind: 'sft',
            role,
            base: baseOf(status.models[role]),
            data,
            hyperparameters,
          }),
        `${input.name}/${job}`,
      );
      const version = await step(`${job}/activate`, () => training.activateModel({ role, trained }));
      status.models = { ...status.models, [role]: version };
      return version;
    }

    let state: EmState;
    if (carried) state = carried;
    else {
      let triples = input.seedTriples;
      if (!triples) {
        const cold = await step('cold-start', () =>
          executeChild(coldStart, {
            workflowId: `${wf}/cold-start`,
            staticSummary: `coldStart ${input.name}/cold-start · step cold-start of emRationaleLoop ${input.name}`,
            args: [{ ...input.coldStart!, name: `${input.name}/cold-start` }],
          }),
        );
        triples = cold.triples.output;
      }
      state = { iteration: 1, triples, models: input.models, warmStarted: false, history: [] };
    }
    status.models = state.models;

    if (!state.warmStarted) {
      if (input.warmStart) {
        for (const role of ['rationaleModel', 'promptGenerator'] as const)
          await trainOn(role, state.triples, `warm-start/${ROLE_SHORT[role]}`, input.hyperparameters.warmStart);
      }
      state = { ...state, warmStarted: true, models: status.models };
    }

    const t = state.iteration;
    status.iteration = t;
    const it = `iter-${t}`;
    // E-step
    const sampledWith = status.models.rationaleModel;
    const scoredWith = status.models.promptGenerator;
    const candidates = await step(`${it}/sample`, () =>
      stage(
        `${it}/sample`,
        'sampleRationales',
        {
          k: input.k,
          temperature: input.temperature,
          maxTokens: input.maxTokens,
          seed: input.seed + t,
          model: sampledWith.model,
          endpoint: sampledWith.endpoint,
          output: 'candidates',
        },
        state.triples,
        `${input.name}/${it}/candidates`,
      ),
    );
    const scored = await step(`${it}/score`, () =>
      stage(
        `${it}/score`,
        'scoreRationale',
        { model: scoredWith.model, endpoint: scoredWith.endpoint },
        candidates.output,
        `${input.name}/${it}/scored`,
      ),
    );
    const selection = await step(`${it}/select`, () =>
      em.selectRationales({
        input: scored.output,
        output: `${input.name}/${it}/selected`,
        criterion: input.criterion,
        shardSize: input.shardSize,
      }),
    );
    const rationaleModel = await trainOn(
      'rationaleModel',
      selection.output,
      `${it}/${ROLE_SHORT.rationaleModel}`,
      input.hyperparameters.eStep,
    );
    // M-step
    const decoded = await step(`${it}/decode`, () =>
      stage(
        `${it}/decode`,
        'sampleRationales',
        {
          k: 1,
          temperature: 0,
          maxTokens: input.maxTokens,
          seed: input.seed + t,
          model: rationaleModel.model,
          endpoint: rationaleModel.endpoint,
          output: 'triple',
        },
        selection.output,
        `${input.name}/${it}/decoded`,
      ),
    );
    const promptGenerator = await trainOn(
      'promptGenerator',
      decoded.output,
      `${it}/${ROLE_SHORT.promptGenerator}`,
      input.hyperparameters.mStep,
    );

    const record: IterationRecord = {
      iteration: t,
      eStep: selection.metrics,
      models: { sampledWith, scoredWith, rationaleModel, decodedWith: rationaleModel, promptGenerator },
      datasets: {
        candidates: candidates.output.name,
        scored: scored.output.name,
        selected: selection.output.name,
        decoded: decoded.output.name,
      },
    };
    const history = [...state.history, record];
    status.history = history;
    const report = await step(`${it}/report`, () => em.writeEmReport({ name: input.name, history }));
    view.memo({ output: selection.output.manifest, reports: [report.json, report.png] });
    const next: EmState = {
      iteration: t + 1,
      triples: selection.output,
      models: status.models,
      warmStarted: true,
      history,
      report,
      paused: runner.paused,
    };
    if (converged(history, input)) {
      status.step = progress.phase = 'done';
      return {
        iterations: history,
        models: status.models,
        triples: selection.output,
        report,
        stoppedBecause: history.length >= input.iterations ? 'iterations' : 'converged',
      };
    }
    return continueAsNew<typeof emRationaleLoop>(raw, next);
  }
}
