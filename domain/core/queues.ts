// Where work runs: the task queue kinds of temporal.yaml (taskQueues maps each to a queue name).
import { z } from 'zod';

export const QueueKindSchema = z.enum(['orchestration', 'inference', 'cpu', 'sandbox', 'training']);
export type QueueKind = z.infer<typeof QueueKindSchema>;
