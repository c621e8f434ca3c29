// Finds the `temporal` CLI (which embeds the dev server and Web UI), or builds it with the Go toolchain.
// Order: TEMPORAL_CLI_PATH, PATH, the project cache, then `go install …/cmd/temporal@v1.5.1` into the cache.
// (v1.5.1 is the newest tag whose go.mod has no replace directive, so `go install pkg@version` accepts it.)
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROMPTCOT_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptcot');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'bin', 'temporal');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Where the CLI is, without building it; undefined when it is nowhere. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file`);
    return explicit;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const cached = cachedCliPath(env);
  return isExecutable(cached) ? cached : undefined;
}

/** Builds the CLI into the cache with `go install` (a few minutes on 2 cores, once). */
export function buildTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const target = cachedCliPath(env);
  mkdirSync(path.dirname(target), { recursive: true });
  const go = onPath('go', env) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go)
    throw new Error(
      'the temporal CLI was not found and no Go toolchain is available to build it (set TEMPORAL_CLI_PATH)',
    );
  process.stderr.write(`building ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} into ${path.dirname(target)} …\n`);
  const result = spawnSync(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, GOBIN: path.dirname(target), CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
  });
  if (result.status !== 0 || !isExecutable(target))
    throw new Error(`go install of the temporal CLI failed (exit ${result.status})`);
  return target;
}

export function ensureTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  return findTemporalCli(env) ?? buildTemporalCli(env);
}
