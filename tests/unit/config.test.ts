import path from 'node:path';
import { ConfigError, loadConfig, parseConfig, resolveApiKey } from '../../activities/config';

const MINIMAL = `
endpoints:
  local:
    baseUrl: http://127.0.0.1:8765/v1
    model: tiny
roles:
  promptGenerator: { endpoint: local }
  rationaleModel: { endpoint: local }
  testCaseWriter: { endpoint: local }
  policy: { endpoint: local }
  teacher: { endpoint: local, model: big-teacher }
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('temporal.yaml', () => {
  it('loads the shipped file with its defaults', () => {
    const config = loadConfig(path.join(__dirname, '..', '..', 'temporal.yaml'), {});
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.roles.promptGenerator.endpoint).toBe('local');
    expect(path.isAbsolute(config.storage.root)).toBe(true);
    expect(config.sandbox.memoryMb).toBe(1024);
  });

  it('keeps an s3:// storage root as it is and resolves its scratch folder next to the file', () => {
    const file = path.join(__dirname, '..', '..', 'temporal.yaml');
    const config = loadConfig(file, {
      PROMPTCOT_STORAGE_ROOT: 's3://bucket/some/prefix',
      PROMPTCOT_STORAGE_ENDPOINT: 'http://127.0.0.1:9000',
    });
    expect(config.storage).toMatchObject({
      root: 's3://bucket/some/prefix',
      endpoint: 'http://127.0.0.1:9000',
      scratch: path.join(path.dirname(file), 'runs', 'scratch'),
    });
  });

  it('fills defaults and keeps role model overrides', () => {
    const config = parseConfig(MINIMAL, 'x.yaml', {});
    expect(config.endpoints.local!.maxConcurrency).toBe(16);
    expect(config.taskQueues.inference).toBe('promptcot-inference');
    expect(config.roles.teacher.model).toBe('big-teacher');
  });

  it('gives the SFT student the policy endpoint unless bound apart', () => {
    expect(parseConfig(MINIMAL, 'x.yaml', {}).roles.student).toEqual({ endpoint: 'local' });
    const apart = parseConfig(`${MINIMAL}  student: { endpoint: local, model: sft-7b }\n`, 'x.yaml', {});
    expect(apart.roles.student).toEqual({ endpoint: 'local', model: 'sft-7b' });
  });

  it('passes task-queue and per-worker activity rate limits, refusing ones that are not positive', () => {
    const text = `${MINIMAL}workers:\n  inference: { maxTaskQueueActivitiesPerSecond: 2, maxActivitiesPerSecond: 0.5 }\n`;
    expect(parseConfig(text, 'x.yaml', {}).workers.inference).toMatchObject({
      // the kind's own default slots stay when its section gives other options only
      maxConcurrentActivityTaskExecutions: 64,
      maxTaskQueueActivitiesPerSecond: 2,
      maxActivitiesPerSecond: 0.5,
    });
    expect(
      errorOf(() =>
        parseConfig(
          text.replace('maxTaskQueueActivitiesPerSecond: 2', 'maxTaskQueueActivitiesPerSecond: 0'),
          'x.yaml',
          {},
        ),
      ),
    ).toMatch(/workers\.inference\.maxTaskQueueActivitiesPerSecond/);
  });

  it('names the file, line and field of a bad value', () => {
    const text = MINIMAL.replace('model: tiny', 'model: tiny\n    maxConcurrency: many');
    expect(errorOf(() => parseConfig(text, 'x.yaml', {}))).toMatch(
      /x\.yaml:6: endpoints\.local\.maxConcurrency: .*expected number/,
    );
  });

  it('rejects unknown fields and unknown endpoints of roles', () => {
    const msg = errorOf(() =>
      parseConfig(
        MINIMAL.replace('teacher: { endpoint: local, model: big-teacher }', 'teacher: { endpoint: gpu }') +
          'sandbx: {}\n',
        'x.yaml',
        {},
      ),
    );
    expect(msg).toContain('roles.teacher.endpoint: unknown endpoint "gpu"');
    expect(msg).toMatch(/Unrecognized key.*sandbx/);
  });

  it('reports invalid YAML with its position', () => {
    expect(errorOf(() => parseConfig('endpoints: [\n', 'bad.yaml', {}))).toMatch(/^bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('lets environment variables override any field, and says which variable was bad', () => {
    const config = parseConfig(MINIMAL, 'x.yaml', {
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      PROMPTCOT__endpoints__local__maxConcurrency: '256',
      PROMPTCOT__workers__inference__maxConcurrentActivityTaskExecutions: '8',
    });
    expect(config.temporal.address).toBe('temporal.example:7233');
    expect(config.endpoints.local!.maxConcurrency).toBe(256);
    expect(config.workers.inference.maxConcurrentActivityTaskExecutions).toBe(8);
    expect(
      errorOf(() => parseConfig(MINIMAL, 'x.yaml', { PROMPTCOT__endpoints__local__maxConcurrency: 'lots' })),
    ).toContain(
      'endpoints.local.maxConcurrency: Invalid input: expected number, received string (set by environment variable PROMPTCOT__endpoints__local__maxConcurrency)',
    );
  });

  it('turns the metrics endpoint on with a port, off by default', () => {
    expect(parseConfig(MINIMAL, 'x.yaml', {}).metrics).toEqual({ host: '127.0.0.1' });
    expect(loadConfig(path.join(__dirname, '..', '..', 'temporal.yaml'), {}).metrics.port).toBeUndefined();
    const on = parseConfig(MINIMAL, 'x.yaml', { PROMPTCOT__metrics__port: '9465' });
    expect(on.metrics).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(errorOf(() => parseConfig(MINIMAL + 'metrics: { port: 0 }\n', 'x.yaml', {}))).toMatch(
      /x\.yaml:\d+: metrics\.port: Too small/,
    );
  });

  it('reads API keys from the environment when asked to', () => {
    const config = parseConfig(MINIMAL.replace('model: tiny', 'model: tiny\n    apiKey: env:MY_KEY'), 'x.yaml', {});
    expect(resolveApiKey(config.endpoints.local!, { MY_KEY: 'sk-1' })).toBe('sk-1');
    expect(() => resolveApiKey(config.endpoints.local!, {})).toThrow('environment variable MY_KEY is not set');
  });
});
