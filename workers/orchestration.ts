// Worker process for the orchestration task queue.
import { startWorkerProcess } from './main';

startWorkerProcess(['orchestration']);
