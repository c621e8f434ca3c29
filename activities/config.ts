// Loads temporal.yaml, applies environment overrides, validates it and resolves secrets.
// A bad field fails at start with its exact path (and its line in the file when it came from the file).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, isNode, parse as parseYamlScalar, LineCounter } from 'yaml';
import { ConfigSchema, type Config, type EndpointConfig } from '../domain/platform/config';
import { fieldProblems } from '../domain/core/validation';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `PROMPTCOT__endpoints__local__baseUrl=http://…` sets endpoints.local.baseUrl; values are read as YAML scalars. */
export const ENV_PREFIX = 'PROMPTCOT__';

const ENV_SHORTCUTS: Record<string, string[]> = {
  TEMPORAL_ADDRESS: ['temporal', 'address'],
  TEMPORAL_NAMESPACE: ['temporal', 'namespace'],
  PROMPTCOT_STORAGE_ROOT: ['storage', 'root'],
  PROMPTCOT_STORAGE_ENDPOINT: ['storage', 'endpoint'],
};

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.PROMPTCOT_CONFIG ?? path.join(__dirname, '..', 'temporal.yaml'));
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function envOverrides(env: NodeJS.ProcessEnv): Array<{ keys: string[]; value: unknown; source: string }> {
  const out: Array<{ keys: string[]; value: unknown; source: string }> = [];
  for (const [name, keys] of Object.entries(ENV_SHORTCUTS)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') out.push({ keys, value: raw, source: name });
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const keys = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .filter((k) => k !== '');
    if (keys.length === 0) continue;
    out.push({ keys, value: parseYamlScalar(raw), source: name });
  }
  return out;
}

/** Parses and validates a configuration held in memory (the file text plus environment). */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new ConfigError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: the top level must be a mapping`);
  const overridden = new Map<string, string>();
  for (const o of envOverrides(env)) {
    setPath(raw, o.keys, o.value);
    overridden.set(o.keys.join('.'), o.source);
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = fieldProblems(result.error).map((p) => {
      const key = p.path.join('.');
      const fromEnv = [...overridden.entries()].find(([k]) => key === k || key.startsWith(`${k}.`));
      if (fromEnv) return `${p.field}: ${p.message} (set by environment variable ${fromEnv[1]})`;
      const node = doc.getIn(p.path, true);
      const range = isNode(node) ? node.range : undefined;
      const where = range ? `:${lineCounter.linePos(range[0]).line}` : '';
      return `${file}${where}: ${p.field}: ${p.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

/** Loads the configuration file (PROMPTCOT_CONFIG or ./temporal.yaml) with environment overrides. */
export function loadConfig(file: string = defaultConfigPath(), env: NodeJS.ProcessEnv = process.env): Config {
  if (!existsSync(file)) throw new ConfigError(`${file}: configuration file not found (set PROMPTCOT_CONFIG)`);
  const config = parseConfig(readFileSync(file, 'utf8'), file, env);
  // Relative paths in the file are relative to the file's folder.
  const base = path.dirname(file);
  // an s3:// root is a URL; its local scratch folder is a path like the others (default runs/scratch)
  if (!config.storage.root.startsWith('s3://')) config.storage.root = path.resolve(base, config.storage.root);
  else config.storage.scratch = path.resolve(base, config.storage.scratch ?? 'runs/scratch');
  config.devServer.dbFile = path.resolve(base, config.devServer.dbFile);
  config.localModel.modelPath = path.resolve(base, config.localModel.modelPath);
  config.localModel.chatModelPath = path.resolve(base, config.localModel.chatModelPath);
  if (config.training) {
    config.training.root = path.resolve(base, config.training.root);
    if (config.training.cwd) config.training.cwd = path.resolve(base, config.training.cwd);
  }
  return config;
}

/** The API key of an endpoint, reading `env:NAME` references at use time. */
export function resolveApiKey(endpoint: EndpointConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (!endpoint.apiKey.startsWith('env:')) return endpoint.apiKey;
  const name = endpoint.apiKey.slice(4);
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`apiKey: environment variable ${name} is not set`);
  return value;
}
