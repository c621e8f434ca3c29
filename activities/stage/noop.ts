// The identity operation: passes each record through. Measures the cost of the stage machinery itself.
import { NoopParamsSchema } from '../../domain/registry/operations';
import { validateWith } from './validate';
import type { ItemOperation } from './operation';

type NoopParams = ReturnType<typeof NoopParamsSchema.parse>;

export const noopOperation: ItemOperation<NoopParams> = {
  parseParams: (params) => validateWith(NoopParamsSchema, params ?? {}, 'params'),
  async run(item, params, ctx) {
    if (params.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.delayMs);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    return { rows: [item] };
  },
};
