// Both dataset-store backends for the storage tests: the folder, and the object store on a real S3-compatible server
// (gofakes3, started on loopback by the test as the Temporal dev server is). `describe.each(STORE_BACKENDS)` and
// `useStoreBackend(kind)` in it give `open(dir)` (a store whose local files live in `dir`) and `elsewhere(store)`
// (the same data seen from another host: same object store, empty local folder; the same store for a folder).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3ObjectStore } from '../../activities/datasets/blob-store';
import { DatasetStore } from '../../activities/datasets/store';
import { startObjectStoreServer, type ObjectStoreServer } from '../../lib/object-store-server';

export type StoreBackendKind = 'file' | 's3';
export const STORE_BACKENDS: StoreBackendKind[] = ['file', 's3'];

export interface StoreBackend {
  readonly kind: StoreBackendKind;
  open(dir: string, options?: { checkpointMs?: number }): DatasetStore;
  elsewhere(store: DatasetStore): DatasetStore;
  /** The storage section of a configuration for this backend (fresh prefix, local files in `dir`). */
  storage(dir: string): { root: string; scratch?: string; endpoint?: string; checkpointMs?: number };
  server(): ObjectStoreServer | undefined;
}

/** Starts the object-store server in beforeAll (for 's3') and stops it in afterAll. */
export function useStoreBackend(kind: StoreBackendKind): StoreBackend {
  let server: ObjectStoreServer | undefined;
  if (kind === 's3') {
    beforeAll(async () => {
      server = await startObjectStoreServer();
    });
    afterAll(async () => {
      await server?.stop();
    });
  }
  const objectsOf = (root: string) => new S3ObjectStore(root, { endpoint: server!.endpoint });
  return {
    kind,
    open(dir, options = {}) {
      if (kind === 'file') return new DatasetStore(dir);
      const root = `s3://${server!.bucket}/${randomBytes(6).toString('hex')}`;
      return new DatasetStore(dir, objectsOf(root), options.checkpointMs);
    },
    elsewhere(store) {
      if (kind === 'file' || !store.objects) return store;
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'promptcot-host-'));
      return new DatasetStore(scratch, objectsOf(store.objects.url), store.checkpointMs);
    },
    storage(dir) {
      if (kind === 'file') return { root: dir };
      return {
        root: `s3://${server!.bucket}/${randomBytes(6).toString('hex')}`,
        scratch: dir,
        endpoint: server!.endpoint,
        checkpointMs: 200,
      };
    },
    server: () => server,
  };
}
