// The model roles of the method: which model a step calls, bound to endpoints in temporal.yaml (`roles`).
// `student` is the model SFT distillation trains (spec §4.3); a config that binds no endpoint to it gives it the
// policy's binding.
export const MODEL_ROLES = [
  'promptGenerator',
  'rationaleModel',
  'testCaseWriter',
  'policy',
  'teacher',
  'student',
] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
