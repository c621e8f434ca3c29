// The registry of item operations, built once per worker process with its dependencies.
import { ApplicationFailure } from '@temporalio/common';
import { OPERATIONS, isOperationName, type OperationName } from '../domain/registry/operations';
import type { InferencePool } from './inference/pool';
import { chatCompletionOperation } from './batch-inference/chat-completion';
import { annotateRationaleOperation, extractConceptsOperation } from './cold-start/annotate';
import { sampleRationalesOperation, scoreRationaleOperation } from './em-rationale-loop/operations';
import { generateProblemOperation } from './synthesize-corpus/generate-problem';
import { constructRewardOperation, prepareSelfPlayPromptOperation, sampleRolloutsOperation, scoreRolloutOperation } from './self-play/operations';
import type { SandboxConfig } from '../domain/platform/config';
import { crossCheckTestsOperation } from './self-play/cross-check';
import { noopOperation } from './stage/noop';
import type { ItemOperation } from './stage/operation';

export interface OperationDeps {
  pool?: InferencePool;
  /** Limits of the sandbox that scores code rollouts. */
  sandbox?: SandboxConfig;
}

export type OperationRegistry = (name: string) => ItemOperation<unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each operation has its own parameter type
type AnyOperation = ItemOperation<any>;

const NEEDS_POOL: Record<Exclude<OperationName, 'noop' | 'prepareSelfPlayPrompt' | 'scoreRollout' | 'crossCheckTests'>, (pool: InferencePool) => AnyOperation> = {
  chatCompletion: chatCompletionOperation,
  generateProblem: generateProblemOperation,
  extractConcepts: extractConceptsOperation,
  annotateRationale: annotateRationaleOperation,
  sampleRationales: sampleRationalesOperation,
  scoreRationale: scoreRationaleOperation,
  constructReward: constructRewardOperation,
  sampleRollouts: sampleRolloutsOperation,
};

export function createOperationRegistry(deps: OperationDeps): OperationRegistry {
  const built = new Map<string, AnyOperation>();
  return (name) => {
    if (!isOperationName(name)) {
      throw ApplicationFailure.nonRetryable(`unknown operation "${name}" (known: ${Object.keys(OPERATIONS).join(', ')})`, 'InvalidInput');
    }
    let op = built.get(name);
    if (!op) {
      if (name === 'noop') op = noopOperation;
      else if (name === 'prepareSelfPlayPrompt') op = prepareSelfPlayPromptOperation;
      else if (name === 'scoreRollout' || name === 'crossCheckTests') {
        if (!deps.sandbox) throw new Error(`${name} needs the sandbox settings in this worker`);
        if (name === 'scoreRollout') op = scoreRolloutOperation(deps.sandbox);
        else if (!deps.pool) throw new Error(`${name} needs an inference pool in this worker`);
        else op = crossCheckTestsOperation(deps.pool, deps.sandbox);
      } else {
        if (!deps.pool) throw new Error(`${name} needs an inference pool in this worker`);
        op = NEEDS_POOL[name](deps.pool);
      }
      built.set(name, op);
    }
    return op;
  };
}
