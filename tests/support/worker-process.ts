// A worker in a child process (so a test can SIGKILL it), configured by a temporal.yaml written for the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Config } from '../../domain/platform/config';

const ROOT = path.join(__dirname, '..', '..');

export function writeConfigFile(file: string, config: Config): string {
  writeFileSync(file, stringify(config));
  return file;
}

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  output: () => string;
  exited: Promise<number | null>;
}

export function spawnWorker(configFile: string, entry = 'workers/all-in-one.ts'): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, PROMPTCOT_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it was ready:\n${out}`)));
  });
  return { child, ready, output: () => out, exited };
}
