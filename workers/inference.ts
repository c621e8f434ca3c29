// Worker process for the inference task queue.
import { startWorkerProcess } from './main';

startWorkerProcess(['inference']);
