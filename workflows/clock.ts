// The workflow's clock. Inside a workflow the sandbox's Date is the time of the workflow task being processed, the
// same on every replay, so it is deterministic there; the rule against Date in deterministic code (eslint) is
// lifted here alone, for code that runs only in workflows.

/** Milliseconds since the epoch, as the workflow task sees them. */
export function workflowNow(): number {
  // eslint-disable-next-line no-restricted-syntax
  return Date.now();
}

/** The workflow task's time as an ISO-8601 string. */
export function workflowNowIso(): string {
  // eslint-disable-next-line no-restricted-syntax
  return new Date(workflowNow()).toISOString();
}

/** An ISO-8601 time as milliseconds since the epoch. */
export function parseIsoTime(iso: string): number {
  // eslint-disable-next-line no-restricted-syntax
  return Date.parse(iso);
}
