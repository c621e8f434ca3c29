// The experiment's ledger in the store: when it first started, and a record per finished step (its result, what it
// spent, its estimate), written once, atomically, when the step ends. A re-run with the same name reads it and
// starts at the first step without a record, so no finished step is redone, whatever happened to earlier runs.
// Also: what a step spent (summed from the manifests its stages wrote) and the sizes its budget estimate needs.
import { existsSync, promises as fsp } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import type { Config } from '../../domain/platform/config';
import { addSpend, type SpendEntry } from '../../domain/core/spend';
import { benchmarkName, type Benchmark } from '../../domain/evaluate';
import type { TokenEstimate } from '../../domain/experiment';
import { benchmarkFile, type BenchmarkName } from '../eval/benchmark-files';
import { readLines } from '../datasets/jsonl';
import type { DatasetStore } from '../datasets/store';

export interface StepRecord {
  step: string;
  /** hash of the step's pipeline input: a re-run whose step input changed is refused (see the workflow) */
  inputHash: string;
  status: 'done' | 'skipped';
  /** why it was skipped (a skipStep signal, or nothing to do) */
  reason?: string;
  result?: unknown;
  spend: CostedSpend[];
  estimate?: TokenEstimate;
  startedAt?: string;
  finishedAt: string;
}

export interface CostedSpend extends SpendEntry {
  /** from the endpoint's `price` in temporal.yaml; absent without one */
  cost?: number;
}

export interface Ledger {
  startedAt: string;
  steps: Record<string, StepRecord>;
}

function ledgerDir(store: DatasetStore, name: string): string {
  return store.resolve(path.join('experiments', name));
}

/** Every manifest.json under a folder, here or in the object store. */
async function manifestsUnder(store: DatasetStore, dir: string): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name === 'manifest.json') found.add(p);
    }
  };
  await walk(dir);
  for (const o of await store.listStored(dir)) if (o.key.endsWith('/manifest.json')) found.add(store.resolve(o.key));
  return [...found].sort();
}

export function createExperimentLedgerActivities(store: DatasetStore, config: Pick<Config, 'endpoints'>) {
  const costOf = (e: SpendEntry): CostedSpend => {
    // a role moved to another server of an endpoint is counted as `<endpoint>@<url>`: the endpoint's price applies
    const endpoint = config.endpoints[e.endpoint.split('@')[0]!];
    if (!endpoint?.price) return e;
    const { promptPerMillion, completionPerMillion } = endpoint.price;
    return { ...e, cost: (e.promptTokens * promptPerMillion + e.completionTokens * completionPerMillion) / 1e6 };
  };
  return {
    /** The ledger of an experiment, created (with its start time) on the first call. */
    async openLedger(input: { name: string; now: string }): Promise<Ledger> {
      const dir = ledgerDir(store, input.name);
      const startFile = path.join(dir, 'experiment.json');
      let start = await store.readJsonIfPresent<{ startedAt: string }>(startFile);
      if (!start) {
        start = { startedAt: input.now };
        await store.writeAtomic(startFile, JSON.stringify(start) + '\n');
      }
      const steps: Record<string, StepRecord> = {};
      const stepsDir = path.join(dir, 'steps');
      const files = new Set<string>();
      try {
        for (const f of await fsp.readdir(stepsDir)) if (f.endsWith('.json')) files.add(path.join(stepsDir, f));
      } catch {
        /* no step finished yet */
      }
      for (const o of await store.listStored(stepsDir)) if (o.key.endsWith('.json')) files.add(store.resolve(o.key));
      for (const f of files) {
        const record = await store.readJsonIfPresent<StepRecord>(f);
        if (record) steps[record.step] = record;
      }
      return { startedAt: start.startedAt, steps };
    },

    /** Records a finished (or skipped) step; a record already there is kept (the first one wins). */
    async recordStep(input: { name: string; record: StepRecord }): Promise<StepRecord> {
      const file = path.join(ledgerDir(store, input.name), 'steps', `${input.record.step}.json`);
      const before = await store.readJsonIfPresent<StepRecord>(file);
      if (before) return before;
      await store.writeAtomic(file, JSON.stringify(input.record, null, 2) + '\n');
      return input.record;
    },

    /** What the stages of the datasets named `<prefix>/…` spent, by role, endpoint and model, with cost. */
    async stepSpend(input: { prefix: string }): Promise<CostedSpend[]> {
      const spend: SpendEntry[] = [];
      for (const file of await manifestsUnder(store, store.datasetDir(input.prefix))) {
        const manifest = await store.readJsonIfPresent<{ producedBy?: { spend?: SpendEntry[] } }>(file);
        addSpend(spend, manifest?.producedBy?.spend);
      }
      return spend
        .sort((a, b) => `${a.role}/${a.model}/${a.endpoint}`.localeCompare(`${b.role}/${b.model}/${b.endpoint}`))
        .map(costOf);
    },

    /** Sizes a budget estimate needs: non-empty lines of JSONL files, problems per benchmark. */
    async stepSizes(input: { files?: string[]; benchmarks?: Benchmark[] }): Promise<{
      lines: number;
      benchmarkProblems: Record<string, number>;
    }> {
      // streamed: a seed file may be far larger than memory wants
      const count = async (file: string) => {
        if (!existsSync(file))
          throw ApplicationFailure.nonRetryable(
            `${file}: no such file (named in the experiment's input)`,
            'InvalidInput',
          );
        let n = 0;
        for await (const l of readLines(file)) if (l.text.trim() !== '') n++;
        return n;
      };
      let lines = 0;
      for (const f of input.files ?? []) lines += await count(f);
      const benchmarkProblems: Record<string, number> = {};
      for (const b of input.benchmarks ?? [])
        benchmarkProblems[benchmarkName(b)] = await count(
          typeof b === 'string' ? benchmarkFile(b as BenchmarkName) : b.file,
        );
      return { lines, benchmarkProblems };
    },
  };
}

export type ExperimentLedgerActivities = ReturnType<typeof createExperimentLedgerActivities>;
