// Runs the train activity in a process of its own, so that a test can SIGKILL it the way a worker crashes.
// Usage: node --import tsx tests/support/train-in-child.ts '{"config": <training section>, "storeRoot": DIR, "input": <TrainInput>}'
// Prints the TrainResult as JSON on success.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DatasetStore } from '../../activities/datasets/store';
import { createTrainingActivities } from '../../activities/training/train';
import { TrainerConfigSchema, type TrainInput } from '../../domain/platform/training';

const args = JSON.parse(process.argv[2] ?? '{}') as { config: unknown; storeRoot: string; input: TrainInput };
const activities = createTrainingActivities(TrainerConfigSchema.parse(args.config), new DatasetStore(args.storeRoot));
new MockActivityEnvironment().run(activities.train, args.input).then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n'),
  (err: unknown) => {
    process.stderr.write(`train failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
