// One process polling every task queue: workflows, inference and CPU work. For local use and tests.
import { startWorkerProcess } from './main';

startWorkerProcess(['orchestration', 'inference', 'cpu']);
