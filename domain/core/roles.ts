// The model roles of the method: which model a step calls, bound to endpoints in temporal.yaml (`roles`).
export const MODEL_ROLES = ['promptGenerator', 'rationaleModel', 'testCaseWriter', 'policy', 'teacher'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
