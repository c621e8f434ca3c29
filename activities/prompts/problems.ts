// Formatting a synthesized problem as a training prompt (spec §2.3 step 4).
import type { Domain } from '../../domain/synthesis';
import { render, template } from '.';

export function formatProblem(domain: Domain, problem: string): string {
  if (domain === 'math') return render('math-problem', { problem });
  // A problem that brings its own starter code gets the instruction prefix only (the published rule).
  if (problem.includes('starter code')) return template('code-problem').split('{problem}')[0] + problem;
  return render('code-problem', { problem });
}
