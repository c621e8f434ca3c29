// The experiment's training prompts: the synthesized corpora as self-play / SFT prompt records (`source`
// PromptCoT-Math / PromptCoT-Code, the formatted training prompt, the bare problem), then the extra prompt files
// (open-source problems with their answers or tests), checked at import. Written once per name.
import type { DatasetRef } from '../../domain/core/dataset';
import type { SelfPlaySource } from '../../domain/self-play';
import { once } from '../datasets/once';
import type { DatasetStore } from '../datasets/store';
import { writeDataset } from '../datasets/write';

export interface TrainingPromptsInput {
  corpora: Array<{ domain: 'math' | 'code'; dataset: DatasetRef }>;
  /** imported extra prompt records (already checked against the self-play prompt schema) */
  extra?: DatasetRef;
  output: string;
  shardSize: number;
}

export interface TrainingPromptsResult {
  dataset: DatasetRef;
  /** prompts per source */
  bySource: Record<string, number>;
}

const SOURCE: Record<'math' | 'code', SelfPlaySource> = { math: 'PromptCoT-Math', code: 'PromptCoT-Code' };

export function createExperimentPromptActivities(store: DatasetStore) {
  return {
    async buildTrainingPrompts(input: TrainingPromptsInput): Promise<TrainingPromptsResult> {
      return once(store, input.output, async () => {
        const bySource: Record<string, number> = {};
        const count = (source: string) => (bySource[source] = (bySource[source] ?? 0) + 1);
        async function* rows(): AsyncGenerator<Record<string, unknown>> {
          for (const { domain, dataset } of input.corpora)
            for await (const raw of store.readAll(dataset)) {
              const r = raw as { id: string; prompt: string; problem: string; rationale?: string };
              count(SOURCE[domain]);
              yield { id: `${domain}/${r.id}`, source: SOURCE[domain], prompt: r.prompt, problem: r.problem };
            }
          if (input.extra)
            for await (const raw of store.readAll(input.extra)) {
              const r = raw as Record<string, unknown> & { id: string | number; source: string };
              count(r.source);
              yield { ...r, id: `extra/${r.id}` };
            }
        }
        const dataset = await writeDataset(store, input.output, rows(), {
          shardSize: input.shardSize,
          producedBy: {
            activity: 'buildTrainingPrompts',
            corpora: input.corpora.map((c) => c.dataset.name),
            extra: input.extra?.name ?? null,
          },
        });
        return { dataset, bySource };
      });
    },
  };
}

export type ExperimentPromptActivities = ReturnType<typeof createExperimentPromptActivities>;
