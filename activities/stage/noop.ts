// The identity operation: passes each record through. Measures the cost of the stage machinery itself.
import { NoopOperation } from '../../domain/core/stage';
import { implement } from './operation';

export const noop = implement(NoopOperation, {
  async run(_item, params, ctx) {
    if (params.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.delayMs);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    return { rows: [ctx.record] };
  },
});
