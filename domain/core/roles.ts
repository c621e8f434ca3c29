// The model roles of the method: which model a step calls, bound to endpoints in temporal.yaml (`roles`).
// `student` is the model SFT distillation trains (spec §4.3); a config that binds no endpoint to it gives it the
// policy's binding. `solver` answers the sampled problems of the corpus difficulty analysis zero-shot (spec §6: Qwen2.5-72B-Instruct);
// unbound, it is the policy's binding too.
export const MODEL_ROLES = [
  'promptGenerator',
  'rationaleModel',
  'testCaseWriter',
  'policy',
  'teacher',
  'student',
  'solver',
] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
