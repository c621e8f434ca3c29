// activateModel: how a trained version becomes the one a role uses, by the role's endpoint kind.
import { createModelActivation } from '../../activities/training/activate-role';
import { ConfigSchema } from '../../domain/platform/config';

const config = (adapters: 'none' | 'vllm') =>
  ConfigSchema.parse({
    endpoints: { gpu: { baseUrl: 'http://gpu:8000/v1', model: 'base-32b', adapters } },
    roles: Object.fromEntries(
      ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'].map((r) => [r, { endpoint: 'gpu' }]),
    ),
  });
const trained = {
  job: 'em/iter-1/q_phi',
  version: 'em/iter-1/q_phi@ab12',
  adapter: '/runs/training/em/iter-1/q_phi/output/adapter',
  model: 'em--iter-1--q_phi',
};

describe('activateModel', () => {
  it('vLLM endpoint: loads the adapter and switches the role to its name', async () => {
    const calls: unknown[] = [];
    const { activateModel } = createModelActivation(config('vllm'), async (input) => {
      calls.push(input);
      return { endpoint: input.endpoint, model: 'em--iter-1--q_phi', loadedAdapter: true };
    });
    expect(await activateModel({ role: 'rationaleModel', trained })).toEqual({
      version: trained.version,
      adapter: trained.adapter,
      model: 'em--iter-1--q_phi',
    });
    expect(calls).toEqual([{ result: trained, endpoint: 'http://gpu:8000/v1', server: 'vllm' }]);
  });

  it('an endpoint without runtime adapters keeps its model; the version is recorded', async () => {
    const { activateModel } = createModelActivation(config('none'), async () => {
      throw new Error('must not be called');
    });
    expect(await activateModel({ role: 'rationaleModel', trained })).toEqual({
      version: trained.version,
      adapter: trained.adapter,
    });
  });

  it('a trainer that started its own server: the role moves there', async () => {
    const { activateModel } = createModelActivation(config('vllm'), async () => {
      throw new Error('must not be called');
    });
    const v = await activateModel({
      role: 'promptGenerator',
      trained: { ...trained, endpoint: 'http://node7:9000/v1' },
    });
    expect(v).toEqual({
      version: trained.version,
      adapter: trained.adapter,
      endpoint: 'http://node7:9000/v1',
      model: 'em--iter-1--q_phi',
    });
  });
});
