// Runs tests/support/minilm_reference.py in the project's Python tools venv: the token ids, vectors and corpus MDS
// of an ONNX sentence encoder computed by Hugging Face `tokenizers` + onnxruntime + numpy, independently of ours.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pythonTools } from './python-tools';

export interface MiniLmReference {
  ids: number[][];
  vectors: number[][];
  distances?: number[][];
  mds?: number[][];
  eigenvalues?: number[];
}

export function miniLmReference(request: {
  modelDir: string;
  texts: string[];
  maxTokens?: number;
  groups?: number[][];
}): MiniLmReference {
  const out = execFileSync(pythonTools(), [path.join(__dirname, 'minilm_reference.py')], {
    input: JSON.stringify(request),
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out.toString('utf8')) as MiniLmReference;
}
