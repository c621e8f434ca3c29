// The dataset store of a configuration: a folder, or an S3-compatible object store with a local scratch folder.
import path from 'node:path';
import type { Config } from '../../domain/platform/config';
import { isObjectStoreRoot, S3ObjectStore } from './blob-store';
import { DatasetStore } from './store';

export function openDatasetStore(storage: Config['storage']): DatasetStore {
  if (!isObjectStoreRoot(storage.root)) return new DatasetStore(storage.root);
  const objects = new S3ObjectStore(storage.root, { endpoint: storage.endpoint, region: storage.region });
  const { bucket, prefix } = objects.location;
  // one scratch folder per root, so two roots never share cached objects
  const scratch = path.join(storage.scratch ?? path.resolve('runs', 'scratch'), bucket, ...prefix.split('/'));
  return new DatasetStore(scratch, objects, storage.checkpointMs);
}
