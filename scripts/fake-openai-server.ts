// Entry point: the scripted fake OpenAI-compatible server (lib/fake-openai-server.ts), for trying faults by hand.
import { main } from '../lib/fake-openai-server';

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
