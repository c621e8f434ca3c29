// Worker process for the training task queue: runs the external trainer command (temporal.yaml `training`), so
// run it where the trainer can run (the GPU node, or a host that submits jobs to the cluster).
import { startWorkerProcess } from './main';

startWorkerProcess(['training']);
