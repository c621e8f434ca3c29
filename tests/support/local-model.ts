// The embedded model server in a child process (jest cannot load the ESM-only node-llama-cpp itself).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export interface LocalModelProcess {
  /** http://127.0.0.1:PORT/v1 */
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export function startLocalModelProcess(
  modelPath: string,
  options: { name: string; parallel?: number; contextSize?: number },
): Promise<LocalModelProcess> {
  const args = [
    require.resolve('tsx/cli'),
    'scripts/local-model-server.ts',
    '--model',
    modelPath,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--name',
    options.name,
    '--parallel',
    String(options.parallel ?? 3),
    '--context-size',
    String(options.contextSize ?? 2048),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`model server did not start in time:\n${output}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, output: () => output, stop });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`model server exited with code ${code}:\n${output}`));
    });
  });
}

/** Runs tests/support/llama-reference.ts (node-llama-cpp's own evaluation) on `modelPath` in a child process. */
export function runLlamaReference(modelPath: string, ops: readonly unknown[]): Promise<any[]> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'tests/support/llama-reference.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(JSON.stringify({ modelPath, ops }));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`llama-reference exited with code ${code}:\n${stderr}`));
      resolve(JSON.parse(stdout) as any[]);
    });
  });
}
