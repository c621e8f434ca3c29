// Cancelling a run must not leave work running behind it: a run started again right after (same datasets) would
// otherwise race the old activities. So a cancelled workflow first waits for the activities and children it
// started (they were asked to cancel, and finish what they have in flight), then reports the cancellation.
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';

export async function drainingOnCancel(idle: () => boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => condition(idle));
    throw err;
  }
}
