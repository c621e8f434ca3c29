// Puts a freshly trained model into service: loads a LoRA adapter into a running vLLM server through its runtime
// LoRA API (POST /v1/load_lora_adapter {lora_name, lora_path}; vLLM must run with --enable-lora and
// VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, and see the adapter folder at the same path), or takes the new server the
// trainer started. Idempotent: an adapter already served under the name is not loaded again.
import path from 'node:path';
import type { TrainResult } from '../../domain/platform/training';

export interface ActivateOptions {
  /** Bearer token of the server (vLLM --api-key); 'EMPTY' or absent sends none. */
  apiKey?: string;
  /** 'auto' (default) checks that /v1/models is served by vLLM before loading; 'vllm' skips that check. */
  server?: 'auto' | 'vllm';
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ActiveModel {
  /** The OpenAI-compatible base URL to use from now on. */
  endpoint: string;
  /** The model name to request there (undefined: keep the role's model). */
  model?: string;
  /** True when this call loaded the adapter (false when it was already loaded or nothing needed loading). */
  loadedAdapter: boolean;
}

/** A failure to put the model into service; `retryable` says whether trying again later can help. */
export class ModelActivationError extends Error {
  override name = 'ModelActivationError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface ModelCard {
  id: string;
  owned_by?: string;
  root?: string | null;
  parent?: string | null;
}

/** vLLM adapter names: the trainer's model name, else the job name with path separators made safe. */
export function loraNameFor(job: string): string {
  return job.replace(/[^A-Za-z0-9._-]+/g, '--');
}

/** `http://h:8000`, `http://h:8000/` and `http://h:8000/v1` all mean the API at `http://h:8000/v1`. */
export function apiBase(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

async function request(
  url: string,
  init: RequestInit,
  options: ActivateOptions,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (options.apiKey && options.apiKey !== 'EMPTY') headers.authorization = `Bearer ${options.apiKey}`;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 120_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await fetch(url, { ...init, headers, signal });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ModelActivationError(
      `${init.method ?? 'GET'} ${url}: ${String((err as Error).cause ?? (err as Error).message)}`,
      true,
    );
  }
}

async function listModels(v1: string, options: ActivateOptions): Promise<ModelCard[]> {
  const res = await request(`${v1}/models`, { method: 'GET' }, options);
  if (res.status !== 200)
    throw new ModelActivationError(
      `GET ${v1}/models answered ${res.status}: ${res.text.slice(0, 500)}`,
      res.status >= 500 || res.status === 429,
    );
  try {
    const body = JSON.parse(res.text) as { data?: ModelCard[] };
    if (!Array.isArray(body.data)) throw new Error('no "data" list');
    return body.data;
  } catch (err) {
    throw new ModelActivationError(`GET ${v1}/models: not an OpenAI model list (${(err as Error).message})`, false);
  }
}

function sameFolder(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/**
 * Returns the endpoint and model name to use for a trained model:
 * - the trainer started a server (`result.endpoint`): that endpoint and the trainer's model name;
 * - the result has an adapter: loads it into the vLLM server at `endpoint` (unless it is served already) and
 *   returns its LoRA name (`result.model`, else derived from the job name);
 * - otherwise: `endpoint` and `result.model` (e.g. a trainer that pushed the weights to the server itself).
 */
export async function activateModel(
  result: Pick<TrainResult, 'job' | 'model' | 'adapter' | 'endpoint'>,
  endpoint: string,
  options: ActivateOptions = {},
): Promise<ActiveModel> {
  if (result.endpoint !== undefined) return { endpoint: result.endpoint, model: result.model, loadedAdapter: false };
  if (result.adapter === undefined) return { endpoint, model: result.model, loadedAdapter: false };
  const loraName = result.model ?? loraNameFor(result.job);
  const v1 = apiBase(endpoint);
  const models = await listModels(v1, options);
  const served = models.find((m) => m.id === loraName);
  if (served) {
    if (typeof served.root !== 'string' || sameFolder(served.root, result.adapter))
      return { endpoint, model: loraName, loadedAdapter: false };
    throw new ModelActivationError(
      `${endpoint} already serves "${loraName}" from ${served.root}, not from ${result.adapter}: unload it or give the trainer another model name`,
      false,
    );
  }
  if (options.server !== 'vllm' && !models.some((m) => m.owned_by === 'vllm')) {
    throw new ModelActivationError(
      `${endpoint} does not look like a vLLM server (no model owned by "vllm" in /v1/models), so adapter ${result.adapter} cannot be loaded at runtime: serve it and set the role's model to it`,
      false,
    );
  }
  const url = `${v1}/load_lora_adapter`;
  const res = await request(
    url,
    { method: 'POST', body: JSON.stringify({ lora_name: loraName, lora_path: result.adapter }) },
    options,
  );
  if (res.status === 200) return { endpoint, model: loraName, loadedAdapter: true };
  if (res.status === 400 && /already been (loaded|added)/i.test(res.text))
    return { endpoint, model: loraName, loadedAdapter: false };
  const detail = res.text.slice(0, 1000);
  if (res.status === 404 && !/No adapter found/i.test(res.text)) {
    throw new ModelActivationError(
      `POST ${url} answered 404 (${detail}): start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True to load adapters at runtime`,
      false,
    );
  }
  throw new ModelActivationError(
    `POST ${url} (lora_name ${loraName}, lora_path ${result.adapter}) answered ${res.status}: ${detail}`,
    res.status >= 500 || res.status === 429,
  );
}
