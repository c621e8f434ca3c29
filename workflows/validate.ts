// Workflow inputs are plain JSON (the CLI, the Web UI and schedules send them): validate first, fail at once.
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeZodError } from '../domain/core/validation';

export function parseWorkflowInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what = 'workflow input',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${describeZodError(result.error)}`, 'InvalidInput');
}
