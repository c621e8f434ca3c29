# The independent computation the embedding tests compare with: Hugging Face `tokenizers` (Rust) on the model's
# tokenizer.json, onnxruntime (Python) on its model.onnx, numpy for mean pooling, L2, the corpora's mean vectors,
# their 1 - cos matrix and classical MDS (numpy.linalg.eigh). Reads one JSON request on stdin, writes JSON to stdout:
#   {"modelDir": ..., "maxTokens": 256, "texts": [...], "groups": [[text indices of corpus 0], ...] (optional)}
#   -> {"ids": [[...]], "vectors": [[...]], "distances": [[...]], "mds": [[x, y], ...], "eigenvalues": [...]}
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

request = json.load(sys.stdin)
model_dir = request["modelDir"]
tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
tokenizer.no_padding()
tokenizer.enable_truncation(max_length=request.get("maxTokens", 256))
options = ort.SessionOptions()
options.log_severity_level = 3
session = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"])
names = [i.name for i in session.get_inputs()]

ids_out, vectors = [], []
for text in request["texts"]:
    e = tokenizer.encode(text)
    ids = np.array([e.ids], dtype=np.int64)
    mask = np.array([e.attention_mask], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = session.run(None, feeds)[0].astype(np.float64)
    pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum()
    vector = pooled[0] / np.linalg.norm(pooled[0])
    ids_out.append(e.ids)
    vectors.append(vector)

result = {"ids": ids_out, "vectors": [v.tolist() for v in vectors]}
groups = request.get("groups")
if groups:
    means = np.array([np.mean([vectors[i] for i in g], axis=0) for g in groups])
    unit = means / np.linalg.norm(means, axis=1, keepdims=True)
    d = np.clip(1 - unit @ unit.T, 0, None)
    np.fill_diagonal(d, 0)
    k = len(groups)
    j = np.eye(k) - np.ones((k, k)) / k
    b = -0.5 * j @ (d**2) @ j
    values, vecs = np.linalg.eigh(b)
    order = np.argsort(-values)
    values, vecs = values[order], vecs[:, order]
    coords = np.zeros((k, 2))
    for axis in range(min(2, k)):
        if values[axis] <= 1e-12 * abs(values[0]):
            continue
        column = vecs[:, axis]
        pivot = int(np.argmax(np.abs(column)))
        sign = -1.0 if column[pivot] < 0 else 1.0
        coords[:, axis] = sign * column * np.sqrt(values[axis])
    result.update({"distances": d.tolist(), "mds": coords.tolist(), "eigenvalues": values.tolist()})
json.dump(result, sys.stdout)
