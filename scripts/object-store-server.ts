// Entry point (`npm run s3:ensure`): finds or builds the S3-compatible test server (lib/object-store-server.ts) and
// prints its path.
import { ensureObjectStoreServer } from '../lib/object-store-server';

process.stdout.write(`${ensureObjectStoreServer()}\n`);
