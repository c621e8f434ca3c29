import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { describeZodError } from '../../domain/validation';

/** Validates operation parameters; a bad one fails the activity for good, naming the field. */
export function validateWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${describeZodError(result.error)}`, 'InvalidInput');
}
