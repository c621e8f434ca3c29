// The registry of item operations: every declaration (domain/<pipeline>.ts), keyed by its own name. Workflows look
// operations up here to validate a stage's parameters before scheduling any work; activities/registry.ts pairs
// each with its implementation (the compiler checks that every operation has exactly one). Nothing in domain/
// imports this file.
import { z } from 'zod';
import { ChatCompletionOperation } from '../batch-inference';
import { AnnotateRationaleOperation, ExtractConceptsOperation } from '../cold-start';
import type { OperationDeclaration } from '../core/operation';
import { NoopOperation, StageInputSchema } from '../core/stage';
import { SampleRationalesOperation, ScoreRationaleOperation } from '../em-rationale-loop';
import {
  ConstructRewardOperation,
  CrossCheckTestsOperation,
  PrepareSelfPlayPromptOperation,
  SampleRolloutsOperation,
  ScoreRolloutOperation,
} from '../self-play';
import { SampleCellOperation, ScoreCellOperation } from '../evaluate';
import {
  EmbedProblemOperation,
  ScoreSolutionOperation,
  SolveProblemOperation,
  TeacherReferenceOperation,
} from '../analyze-corpora';
import { FilterTraceOperation, PrepareSftPromptOperation, TeacherTrajectoryOperation } from '../sft-distill';
import { GenerateProblemOperation } from '../synthesize-corpus';

const DECLARATIONS = [
  NoopOperation,
  ChatCompletionOperation,
  GenerateProblemOperation,
  ExtractConceptsOperation,
  AnnotateRationaleOperation,
  SampleRationalesOperation,
  ScoreRationaleOperation,
  PrepareSelfPlayPromptOperation,
  ConstructRewardOperation,
  CrossCheckTestsOperation,
  SampleRolloutsOperation,
  ScoreRolloutOperation,
  PrepareSftPromptOperation,
  TeacherTrajectoryOperation,
  FilterTraceOperation,
  SampleCellOperation,
  ScoreCellOperation,
  TeacherReferenceOperation,
  SolveProblemOperation,
  ScoreSolutionOperation,
  EmbedProblemOperation,
] as const;

type Declarations = (typeof DECLARATIONS)[number];

/** Each declaration under its own name. */
export const OPERATIONS = Object.fromEntries(DECLARATIONS.map((d) => [d.name, d])) as {
  readonly [D in Declarations as D['name']]: D;
};

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = DECLARATIONS.map((d) => d.name) as [OperationName, ...OperationName[]];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

export function operationDeclaration(name: OperationName): OperationDeclaration {
  return OPERATIONS[name];
}

/** A stage input whose operation is registered and whose params its declaration accepts. */
export const StageRequestSchema = StageInputSchema.extend({ operation: z.enum(OPERATION_NAMES) }).superRefine(
  (input, ctx) => {
    const result = operationDeclaration(input.operation).params.safeParse(input.params ?? {});
    if (result.success) return;
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', path: ['params', ...issue.path], message: issue.message });
  },
);
export type StageRequest = z.output<typeof StageRequestSchema>;
