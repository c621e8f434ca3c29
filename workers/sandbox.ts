// Worker process for the sandbox task queue (code rewards): run it on machines with bubblewrap, one per host;
// its interpreter pool (sandbox.concurrency pre-started interpreters) keeps that many cores busy.
import { startWorkerProcess } from './main';

startWorkerProcess(['sandbox']);
