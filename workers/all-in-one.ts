// One process polling every task queue: workflows, inference, CPU work and sandboxed code. For local use and tests.
import { startWorkerProcess } from './main';

startWorkerProcess(['orchestration', 'inference', 'cpu', 'sandbox', 'training']);
