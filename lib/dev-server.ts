// Starts and stops a real Temporal dev server (`temporal server start-dev`) with a SQLite file, so that runs survive
// a server restart, with the Web UI and the project's search attributes. Used by the quick start, the tests and the benchmarks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeFlags } from '../domain/core/run-view';
import { ensureTemporalCli } from './temporal-cli';

export interface DevServerOptions {
  port?: number; // 0 or absent: a free port
  uiPort?: number; // absent: a free port; ignored when headless
  headless?: boolean;
  /** SQLite file; absent: in-memory (lost when the process exits). */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own log goes (default: discarded). */
  logFile?: string;
  /** Namespace retention applied after start (the dev server's default is 24h). */
  retention?: string;
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  port: number;
  uiUrl?: string;
  namespace: string;
  process: ChildProcess;
  cliPath: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(address: string, namespace: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server exited early with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`temporal server at ${address} not healthy after ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cliPath = ensureTemporalCli();
  const port = options.port || (await freePort());
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  // the project's search attributes (PromptcotState, …) are registered at every start; on an existing SQLite file
  // the dev server keeps those it has
  args.push(...devServerSearchAttributeFlags());
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  let uiUrl: string | undefined;
  if (options.headless) args.push('--headless');
  else {
    const uiPort = options.uiPort || (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  args.push(...(options.extraArgs ?? []));
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  } else {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitHealthy(address, namespace, child, options.startTimeoutMs ?? 60_000);
    if (options.retention) {
      spawnSync(
        cliPath,
        ['operator', 'namespace', 'update', '--address', address, '-n', namespace, '--retention', options.retention],
        {
          stdio: 'ignore',
        },
      );
    }
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { address, port, uiUrl, namespace, process: child, cliPath, stop };
}

// ---- command line: npm run dev-server -- [start|stop|status] --------------------------------------------------
export async function main(): Promise<void> {
  const { loadConfig } = await import('../activities/config');
  const config = loadConfig();
  const [command = 'start'] = process.argv.slice(2);
  const pidFile = path.join(path.dirname(config.devServer.dbFile), 'temporal-dev-server.pid');
  if (command === 'stop') {
    if (!existsSync(pidFile)) return void console.log('no dev server pid file');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      console.log(`sent SIGTERM to ${pid}`);
    } catch {
      console.log(`process ${pid} is not running`);
    }
    rmSync(pidFile, { force: true });
    return;
  }
  if (command === 'status') {
    const address = config.temporal.address;
    try {
      const c = await Connection.connect({ address, connectTimeout: 2000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      console.log(`Temporal is up at ${address}`);
    } catch {
      console.log(`Temporal is not reachable at ${address}`);
      process.exitCode = 1;
    }
    return;
  }
  if (command !== 'start') throw new Error(`unknown command ${command} (start | stop | status)`);
  const server = await startDevServer({
    port: config.devServer.port,
    uiPort: config.devServer.uiPort,
    headless: config.devServer.headless,
    dbFile: config.devServer.dbFile,
    namespace: config.temporal.namespace,
    retention: '720h',
    logFile: path.join(path.dirname(config.devServer.dbFile), 'temporal-dev-server.log'),
  });
  writeFileSync(pidFile, String(server.process.pid));
  console.log(`Temporal dev server ready at ${server.address} (SQLite ${config.devServer.dbFile})`);
  if (server.uiUrl) console.log(`Web UI: ${server.uiUrl}`);
  const shutdown = () => void server.stop().then(() => rmSync(pidFile, { force: true }));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
}
