// The inference clients of one process: one InferenceClient (with its limiter and connection pool) per configured
// endpoint, created on first use and shared by every activity of the worker. Create one pool per process.
import type { Config, ModelRole } from '../../domain/platform/config';
import { InferenceClient, type InferenceClientOptions } from './client';
import type { InferenceUsage } from './usage';

export interface RoleClient {
  client: InferenceClient;
  /** The model to request: the role's override, else the endpoint's default. */
  model: string;
  endpoint: string;
}

export type InferencePoolOptions = Omit<InferenceClientOptions, 'name' | 'limiter' | 'apiKey'>;

export class InferencePool {
  private readonly clients = new Map<string, InferenceClient>();
  /** Role views of the clients (InferenceClient.forRole), by client name and role. */
  private readonly roleViews = new Map<string, InferenceClient>();

  constructor(
    private readonly config: Pick<Config, 'endpoints' | 'roles'>,
    private readonly options: InferencePoolOptions = {},
  ) {}

  /** The endpoint names in the configuration. */
  endpointNames(): string[] {
    return Object.keys(this.config.endpoints);
  }

  /** The client of a configured endpoint. */
  client(endpointName: string): InferenceClient {
    let client = this.clients.get(endpointName);
    if (client) return client;
    const endpoint = Object.hasOwn(this.config.endpoints, endpointName)
      ? this.config.endpoints[endpointName]
      : undefined;
    if (!endpoint) {
      throw new Error(
        `unknown inference endpoint "${endpointName}" (configured: ${this.endpointNames().join(', ') || 'none'})`,
      );
    }
    client = new InferenceClient(endpoint, { ...this.options, name: endpointName });
    this.clients.set(endpointName, client);
    return client;
  }

  /**
   * The client and model bound to a model role (its calls counted under the role in the metrics). `baseUrl` moves
   * the role to another server of the same kind (a trained model that a trainer started a server for): the
   * endpoint's settings, another URL.
   */
  forRole(role: ModelRole, baseUrl?: string): RoleClient {
    const binding = Object.hasOwn(this.config.roles, role) ? this.config.roles[role] : undefined;
    if (!binding) throw new Error(`unknown model role "${role}"`);
    const client = this.clientAt(binding.endpoint, baseUrl);
    const key = `${client.name}\u0000${role}`;
    let view = this.roleViews.get(key);
    if (!view) this.roleViews.set(key, (view = client.forRole(role)));
    return { client: view, model: binding.model ?? client.defaultModel, endpoint: client.name };
  }

  /** The client of an endpoint, or of its settings at another base URL (named `<endpoint>@<baseUrl>`). */
  private clientAt(endpointName: string, baseUrl: string | undefined): InferenceClient {
    const configured = this.client(endpointName);
    const endpoint = this.config.endpoints[endpointName]!;
    if (baseUrl === undefined || baseUrl === endpoint.baseUrl) return configured;
    const name = `${endpointName}@${baseUrl}`;
    let client = this.clients.get(name);
    if (!client) {
      client = new InferenceClient({ ...endpoint, baseUrl }, { ...this.options, name });
      this.clients.set(name, client);
    }
    return client;
  }

  /** Usage per endpoint of the clients this pool created. */
  usage(): Record<string, InferenceUsage> {
    const out: Record<string, InferenceUsage> = {};
    for (const [name, client] of this.clients) out[name] = client.usage();
    return out;
  }

  /** Closes idle connections of every client. */
  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}
