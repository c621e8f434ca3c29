// An S3-compatible server for tests and local demos: gofakes3, built once with the Go toolchain into the project
// cache (as lib/temporal-cli.ts does for the Temporal CLI), started on loopback with an in-memory backend.
//
// Why gofakes3: the operations the store uses (PUT, GET, HEAD with S3's 404s, ListObjectsV2 with prefixes and
// continuation, DeleteObjects with its required checksum) behave as on S3 with path-style addressing, and it is one
// static binary built from the Go module proxy with the toolchain that already builds the Temporal CLI, cached the
// same way, starting in milliseconds with an in-memory backend. moto's server emulates more of AWS but needs a
// Python environment with its web stack installed next to the project; s3rver covers a smaller part of the API.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cacheRoot } from './temporal-cli';

export const GOFAKES3_MODULE = 'github.com/johannesboyne/gofakes3/cmd/gofakes3';
export const GOFAKES3_VERSION = 'v1.2.0';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function cachedObjectStoreServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'bin', `gofakes3-${GOFAKES3_VERSION}`);
}

/** The server binary: GOFAKES3_PATH, the project cache, or `go install` into the cache (seconds, once). */
export function ensureObjectStoreServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOFAKES3_PATH) {
    if (!isExecutable(env.GOFAKES3_PATH)) throw new Error(`GOFAKES3_PATH=${env.GOFAKES3_PATH} is not executable`);
    return env.GOFAKES3_PATH;
  }
  const target = cachedObjectStoreServerPath(env);
  if (isExecutable(target)) return target;
  const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  const gobin = path.join(cacheRoot(env), 'gofakes3-build');
  mkdirSync(gobin, { recursive: true });
  process.stderr.write(`building ${GOFAKES3_MODULE}@${GOFAKES3_VERSION} …\n`);
  const result = spawnSync(go, ['install', `${GOFAKES3_MODULE}@${GOFAKES3_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
  });
  const built = path.join(gobin, 'gofakes3');
  if (result.status !== 0 || !isExecutable(built))
    throw new Error(`go install of gofakes3 failed (exit ${result.status}); set GOFAKES3_PATH to a built binary`);
  mkdirSync(path.dirname(target), { recursive: true });
  renameSync(built, target);
  return target;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gofakes3 exited with ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`gofakes3 did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ObjectStoreServer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/**
 * Starts a server on a free loopback port with one bucket, in memory (nothing outlives it). Credentials are any:
 * the SDK signs requests, the server does not check them; the process's AWS_* credentials are set when missing.
 */
export async function startObjectStoreServer(bucket = 'promptcot'): Promise<ObjectStoreServer> {
  const binary = ensureObjectStoreServer();
  const port = await freePort();
  const child = spawn(binary, ['-backend', 'memory', '-host', `127.0.0.1:${port}`, '-initialbucket', bucket], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, child, 15_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
