// How long an evaluation text must be for a comparison at a given context: llama-perplexity
// scores whole windows of n_ctx tokens only (n_chunk = tokens ÷ n_ctx), so a text needs at
// least one window's worth. One definition for the core's refusal and the Lab's form.

/** The fewest tokens (BOS included, as llama-perplexity counts them) that give one scored window. */
export function evalTokensNeeded(contextSize: number): number {
  return contextSize;
}

/** Whether a text of `tokens` tokens can be evaluated at `contextSize`. */
export function evalTextLongEnough(tokens: number, contextSize: number): boolean {
  return tokens >= evalTokensNeeded(contextSize);
}
