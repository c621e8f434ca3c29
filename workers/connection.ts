// Connections to Temporal from temporal.yaml (plain or TLS / mTLS), for workers and for clients.
import { readFileSync } from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../domain/platform/config';

function tlsOptions(config: Config) {
  const tls = config.temporal.tls;
  if (!tls.enabled) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caPath ? readFileSync(tls.caPath) : undefined,
    clientCertPair:
      tls.certPath && tls.keyPath ? { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } : undefined,
  };
}

export function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address, tls: tlsOptions(config) });
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: config.temporal.address,
    tls: tlsOptions(config),
    connectTimeout: 10_000,
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}
