// The registry of item operations, built once per worker process with its dependencies.
import { ApplicationFailure } from '@temporalio/common';
import { OPERATIONS, isOperationName, type OperationName } from '../../domain/operations';
import type { InferencePool } from '../inference/pool';
import { chatCompletionOperation } from './chat-completion';
import { annotateRationaleOperation, extractConceptsOperation } from './cold-start';
import { sampleRationalesOperation, scoreRationaleOperation } from './em';
import { generateProblemOperation } from './generate-problem';
import { noopOperation } from './noop';
import type { ItemOperation } from './types';

export interface OperationDeps {
  pool?: InferencePool;
}

export type OperationRegistry = (name: string) => ItemOperation<unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each operation has its own parameter type
type AnyOperation = ItemOperation<any>;

const NEEDS_POOL: Record<Exclude<OperationName, 'noop'>, (pool: InferencePool) => AnyOperation> = {
  chatCompletion: chatCompletionOperation,
  generateProblem: generateProblemOperation,
  extractConcepts: extractConceptsOperation,
  annotateRationale: annotateRationaleOperation,
  sampleRationales: sampleRationalesOperation,
  scoreRationale: scoreRationaleOperation,
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
      else {
        if (!deps.pool) throw new Error(`${name} needs an inference pool in this worker`);
        op = NEEDS_POOL[name](deps.pool);
      }
      built.set(name, op);
    }
    return op;
  };
}
