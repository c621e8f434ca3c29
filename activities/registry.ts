// The one implementation of every declared item operation (domain/registry/operations.ts), checked by the compiler:
// a missing, extra or mismatched entry does not build. A worker gets the operations prepared with what it provides
// (the inference pool, built on first need; the sandbox settings); an operation that needs what the worker lacks
// fails when a shard asks for it, naming what is missing.
import { ApplicationFailure } from '@temporalio/common';
import type { ParamsOf } from '../domain/core/operation';
import { OPERATION_NAMES, OPERATIONS, isOperationName, type OperationName } from '../domain/registry/operations';
import { chatCompletion } from './batch-inference/chat-completion';
import { annotateRationale, extractConcepts } from './cold-start/annotate';
import { sampleRationales, scoreRationale } from './em-rationale-loop/operations';
import { crossCheckTests } from './self-play/cross-check';
import { constructReward, prepareSelfPlayPrompt, sampleRollouts, scoreRollout } from './self-play/operations';
import { sampleCell, scoreCell } from './eval/operations';
import { embedProblem, scoreSolution, solveProblem, teacherReference } from './analysis/operations';
import { filterTrace, prepareSftPrompt, teacherTrajectory } from './sft/operations';
import { noop } from './stage/noop';
import {
  prepareOperation,
  type ItemOperation,
  type Need,
  type OperationImplementation,
  type OperationNeeds,
} from './stage/operation';
import { generateProblem } from './synthesize-corpus/generate-problem';

const IMPLEMENTATIONS: { readonly [K in OperationName]: OperationImplementation<(typeof OPERATIONS)[K], Need> } = {
  noop,
  chatCompletion,
  generateProblem,
  extractConcepts,
  annotateRationale,
  sampleRationales,
  scoreRationale,
  prepareSelfPlayPrompt,
  constructReward,
  crossCheckTests,
  sampleRollouts,
  scoreRollout,
  prepareSftPrompt,
  teacherTrajectory,
  filterTrace,
  sampleCell,
  scoreCell,
  teacherReference,
  solveProblem,
  scoreSolution,
  embedProblem,
};

/** What a worker provides to operations; each is asked for only when an operation that needs it is first used. */
export type OperationProviders = { readonly [N in Need]?: () => OperationNeeds[N] };

export type OperationRegistry = (name: string) => ItemOperation;

const NEED_NAMES: Record<Need, string> = { pool: 'an inference pool', sandbox: 'the sandbox settings' };

function provide<N extends Need>(
  into: Partial<OperationNeeds>,
  need: N,
  providers: OperationProviders,
  operation: string,
): void {
  const make = providers[need];
  if (!make) throw new Error(`${operation} needs ${NEED_NAMES[need]} in this worker`);
  into[need] = make();
}

export function createOperationRegistry(providers: OperationProviders): OperationRegistry {
  const built = new Map<OperationName, ItemOperation>();
  return (name) => {
    if (!isOperationName(name)) {
      throw ApplicationFailure.nonRetryable(
        `unknown operation "${name}" (known: ${OPERATION_NAMES.join(', ')})`,
        'InvalidInput',
      );
    }
    let op = built.get(name);
    if (!op) {
      const impl: OperationImplementation = IMPLEMENTATIONS[name];
      const needs: Partial<OperationNeeds> = {};
      for (const need of impl.needs) provide(needs, need, providers, name);
      op = prepareOperation(impl, needs as OperationNeeds);
      built.set(name, op);
    }
    return op;
  };
}

/** One operation, prepared with `providers`, its parameters typed (tests and tools). */
export function preparedOperation<K extends OperationName>(
  name: K,
  providers: OperationProviders = {},
): ItemOperation<ParamsOf<(typeof OPERATIONS)[K]>> {
  return createOperationRegistry(providers)(name) as ItemOperation<ParamsOf<(typeof OPERATIONS)[K]>>;
}
