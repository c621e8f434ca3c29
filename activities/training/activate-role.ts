// Making a trained model the version a role uses: the `activateModel` activity of the EM loop and self-play.
// The role's endpoint decides how (config `endpoints.<name>.adapters`): a vLLM server loads the new LoRA adapter
// at run time and the role switches to its name; a trainer that started a server of its own names its endpoint;
// otherwise the endpoint keeps serving its configured model and only the new version is recorded.
import type { Config } from '../../domain/platform/config';
import type { ModelVersion } from '../../domain/core/models';
import type { ModelRole } from '../../domain/core/roles';
import type { TrainResult } from '../../domain/platform/training';
import type { ActiveModel } from './serve';

export interface ActivateModelInput {
  role: ModelRole;
  trained: Pick<TrainResult, 'job' | 'version' | 'model' | 'adapter' | 'endpoint'>;
}

export function createModelActivation(
  config: Config,
  activateTrainedModel: (input: {
    result: ActivateModelInput['trained'];
    endpoint: string;
    server?: 'auto' | 'vllm';
  }) => Promise<ActiveModel>,
) {
  return {
    async activateModel(input: ActivateModelInput): Promise<ModelVersion> {
      const binding = config.roles[input.role];
      const endpoint = config.endpoints[binding.endpoint]!;
      const { trained } = input;
      const recorded = { version: trained.version, ...(trained.adapter ? { adapter: trained.adapter } : {}) };
      if (trained.endpoint)
        return { ...recorded, endpoint: trained.endpoint, ...(trained.model ? { model: trained.model } : {}) };
      if (trained.adapter && endpoint.adapters === 'vllm') {
        const active = await activateTrainedModel({ result: trained, endpoint: endpoint.baseUrl, server: 'vllm' });
        return { ...recorded, ...(active.model ? { model: active.model } : {}) };
      }
      // the served model stays what the role is configured with
      return { ...recorded, ...(binding.model ? { model: binding.model } : {}) };
    },
  };
}
