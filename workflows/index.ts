// Every workflow the workers run (the worker bundles this file).
export { mapDatasetStage } from './stage';
export { batchInference } from './batch-inference';
export { synthesizeCorpus } from './synthesize-corpus';
export { coldStart } from './cold-start';
export { emRationaleLoop } from './em-rationale-loop';
export { selfPlay } from './self-play';
export { sftDistill } from './sft-distill';
export { evaluate } from './evaluate';
export { analyzeCorpora } from './analyze-corpora';
export { promptcotExperiment } from './promptcot-experiment';
