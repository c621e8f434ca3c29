// Worker process for the cpu task queue.
import { startWorkerProcess } from './main';

startWorkerProcess(['cpu']);
