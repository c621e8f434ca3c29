// Entry point: the Temporal dev server with the Web UI (lib/dev-server.ts).
import { main } from '../lib/dev-server';

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
