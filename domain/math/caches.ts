// The memo caches of the math module (normalised answers, parsed LaTeX). They only memoise pure functions, so they
// never change a result; clearing them is for benchmarks that want cold-cache numbers.
import { clearLatexExpressionCache } from './latex-expression';
import { clearNormalizeCache } from './normalize';

export function clearMathCaches(): void {
  clearNormalizeCache();
  clearLatexExpressionCache();
}
