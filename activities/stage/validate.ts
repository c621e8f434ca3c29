import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { describeZodError, fieldProblems } from '../../domain/core/validation';

/** An item that fails its schema is set aside, naming its first bad field (the run goes on). */
export function rejectBadField(error: z.ZodError): { reject: string } {
  const p = fieldProblems(error)[0]!;
  return { reject: `field ${p.field}: ${p.message}` };
}

/** Validates operation parameters; a bad one fails the activity for good, naming the field. */
export function validateWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${describeZodError(result.error)}`, 'InvalidInput');
}
