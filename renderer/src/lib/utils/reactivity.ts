// Dependencies an effect or a getter takes on purpose: the values are read only so that the
// caller re-runs when they change.

/** Reads its arguments (the call site evaluates them) and does nothing else. */
export function track(..._values: unknown[]): void {
  // Evaluating the arguments is the whole job.
}
