// The registry of item operations, built once per worker process with its dependencies.
import { ApplicationFailure } from '@temporalio/common';
import { OPERATIONS, isOperationName } from '../../domain/operations';
import type { InferencePool } from '../inference/pool';
import { chatCompletionOperation } from './chat-completion';
import { noopOperation } from './noop';
import type { ItemOperation } from './types';

export interface OperationDeps {
  pool?: InferencePool;
}

export type OperationRegistry = (name: string) => ItemOperation<unknown>;

export function createOperationRegistry(deps: OperationDeps): OperationRegistry {
  return (name) => {
    if (!isOperationName(name)) {
      throw ApplicationFailure.nonRetryable(`unknown operation "${name}" (known: ${Object.keys(OPERATIONS).join(', ')})`, 'InvalidInput');
    }
    switch (name) {
      case 'noop':
        return noopOperation as ItemOperation<unknown>;
      case 'chatCompletion':
        if (!deps.pool) throw new Error('chatCompletion needs an inference pool in this worker');
        return chatCompletionOperation(deps.pool) as ItemOperation<unknown>;
    }
  };
}
