// The memo caches of the math module (normalised answers, answer shapes, parsed LaTeX). They only memoise pure functions, so they
// never change a result; clearing them is for benchmarks that want cold-cache numbers.
import { clearAnswerShapeCache } from './answer-shape';
import { clearLatexExpressionCache } from './latex-expression';
import { clearNormalizeCache } from './normalize';

export function clearMathCaches(): void {
  clearNormalizeCache();
  clearLatexExpressionCache();
  clearAnswerShapeCache();
}
