// Formatting a synthesized problem as a training prompt (spec §2.3 step 4).
import type { Domain } from '../../domain/synthesize-corpus';
import { render, template } from '.';
import { pyStrip } from '../../domain/core/py-strings';

export function formatProblem(domain: Domain, problem: string): string {
  if (domain === 'math') {
    // a problem that already carries the instruction is taken as it is (the published rule), not given it twice
    const instruction = template('math-problem').split('{problem}')[1]!.trim();
    if (problem.includes(instruction)) return problem;
    return render('math-problem', { problem: pyStrip(problem) });
  }
  // A problem that brings its own starter code gets the instruction prefix only (the published rule).
  if (problem.includes('starter code'))
    return template('code-problem').split('{problem}')[0] + problem.replace(/^\s+/, '');
  return render('code-problem', { problem: pyStrip(problem) });
}

/** The code and math templates around `{problem}`: what problemOfPrompt takes off a formatted prompt. */
export function promptWrappers(): Array<{ prefix: string; suffix: string }> {
  return (['code-problem', 'math-problem'] as const).map((name) => {
    const [prefix, suffix] = template(name).split('{problem}') as [string, string];
    return { prefix, suffix };
  });
}
