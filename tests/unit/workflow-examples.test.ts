// The example input of every startable workflow (domain/registry/workflows.ts: what `npm run cli -- workflows` prints
// and the README's Web UI section shows) parses with the workflow's own schema, names files that exist, the input's
// JSON Schema describes it, and the README shows exactly these examples.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { safeParseWith } from '../../domain/core/validation';
import { inputJsonSchema, STARTABLE_WORKFLOWS } from '../../domain/registry/workflows';

const ROOT = path.join(__dirname, '..', '..');
const FILE_FIELDS = ['inputFiles', 'conceptFiles', 'problemFiles', 'promptFiles'];

/** Every file list of an input, nested ones (a coldStart inside emRationaleLoop) too. */
function filesOf(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) =>
    FILE_FIELDS.includes(key) && Array.isArray(v) ? (v as string[]) : filesOf(v),
  );
}

describe.each(Object.entries(STARTABLE_WORKFLOWS))('%s', (_name, spec) => {
  it('has an example input that its schema accepts', () => {
    const parsed = safeParseWith(spec.input, spec.example);
    expect(parsed.ok ? 'ok' : parsed.message).toBe('ok');
  });

  it('names only files of the repository in its example', () => {
    for (const file of filesOf(spec.example))
      expect(existsSync(path.join(ROOT, file)) ? file : `missing ${file}`).toBe(file);
  });

  it('has a JSON Schema of its input listing the example fields', () => {
    const schema = inputJsonSchema(spec) as { type?: string; properties?: Record<string, unknown> };
    expect(schema.type).toBe('object');
    for (const key of Object.keys(spec.example)) expect(schema.properties).toHaveProperty([key]);
  });
});

it('the mapDatasetStage example maps over the prompts that the batchInference example imports', () => {
  const batch = STARTABLE_WORKFLOWS.batchInference!.example as { name: string; inputFiles: string[] };
  const stage = STARTABLE_WORKFLOWS.mapDatasetStage!.example as { input: { name: string; items: number } };
  const lines = batch.inputFiles
    .map(
      (f) =>
        readFileSync(path.join(ROOT, f), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '').length,
    )
    .reduce((a, b) => a + b, 0);
  expect(stage.input).toMatchObject({ name: `${batch.name}/input`, items: lines });
});

it('the README Web UI section shows every example as the registry has it', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Web UI: starting runs');
  expect(start).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const shown = new Map(
    [...section.matchAll(/\*\*`(\w+)`\*\*[\s\S]*?```json\n([\s\S]*?)```/g)].map((m) => [m[1]!, JSON.parse(m[2]!)]),
  );
  expect([...shown.keys()].sort()).toEqual(Object.keys(STARTABLE_WORKFLOWS).sort());
  for (const [name, spec] of Object.entries(STARTABLE_WORKFLOWS))
    expect([name, shown.get(name)]).toEqual([name, spec.example]);
});
