// The pure parts of the EM rationale loop: scoring spans, best-of-K selection, metrics, convergence; and the PNG plot.
import { inflateSync } from 'node:zlib';
import { renderLinePlotPng } from '../../activities/reports/plot';
import {
  converged,
  generationCompletion,
  median,
  scoringSequence,
  selectBest,
  type IterationRecord,
} from '../../domain/em-rationale-loop';
import { parseGeneration } from '../../domain/synthesize-corpus';

describe('scoringSequence', () => {
  it('puts z and x spans exactly over the rationale and the problem after the prompt', () => {
    const prompt = 'Foundational Concepts:\n1. parity\n\nDifficulty Level: AIME';
    const z = 'Start from parity; the problem asks for n.';
    const x = 'Find n.'; // also occurs inside z: the span must be the problem block's
    const seq = scoringSequence(prompt, z, x);
    expect(seq.text.startsWith(prompt)).toBe(true);
    expect(seq.text.slice(seq.rationale.start, seq.rationale.end)).toBe(z);
    expect(seq.text.slice(seq.problem.start, seq.problem.end)).toBe(x);
    expect(seq.problem.start).toBeGreaterThan(seq.rationale.end);
    expect(parseGeneration(seq.text.slice(prompt.length))).toEqual({ ok: true, rationale: z, problem: x });
    expect(seq.text.slice(prompt.length)).toBe(generationCompletion(z, x));
    // texts that also occur in the markers or in each other
    const odd = scoringSequence(prompt, 'BEGIN', 'PROBLEM');
    expect(odd.text.slice(odd.rationale.start, odd.rationale.end)).toBe('BEGIN');
    expect(odd.text.slice(odd.problem.start, odd.problem.end)).toBe('PROBLEM');
    expect(odd.problem.start).toBeGreaterThan(odd.text.indexOf('<!-- BEGIN PROBLEM'));
  });
});

describe('selectBest (z* = argmax R)', () => {
  const c = (k: number, logpZ?: number, logpX?: number, tokensZ = 10, tokensX = 10) => ({
    k,
    rationale: `z${k}`,
    logpZ,
    logpX,
    tokensZ,
    tokensX,
  });
  it('takes the highest joint log-likelihood; ties go to the lowest k; unscored never wins', () => {
    expect(selectBest([c(0, -10, -5), c(1, -3, -4), c(2, -6, -2)], 'sum')!.k).toBe(1);
    expect(selectBest([c(2, -3, -4), c(1, -4, -3), c(0)], 'sum')!.k).toBe(1);
    expect(selectBest([c(0), c(1)], 'sum')).toBeUndefined();
    expect(selectBest([c(0, Number.NEGATIVE_INFINITY, -1), c(1, -50, -50)], 'sum')!.k).toBe(1);
  });
  it('perToken divides by the tokens of z and x (a short rationale no longer wins by being short)', () => {
    const short = c(0, -20, -10, 5, 10); // R = -30 over 15 tokens = -2 per token
    const long = c(1, -40, -10, 40, 10); // R = -50 over 50 tokens = -1 per token
    expect(selectBest([short, long], 'sum')!.k).toBe(0);
    expect(selectBest([short, long], 'perToken')!.k).toBe(1);
  });
});

describe('metrics and convergence', () => {
  const rec = (iteration: number, meanReward: number) =>
    ({ iteration, eStep: { meanReward } }) as unknown as IterationRecord;
  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
  it('stops at the iteration count, or when the mean reward improves by less than minImprovement', () => {
    expect(converged([rec(1, -10)], { iterations: 1 })).toBe(true);
    expect(converged([rec(1, -10), rec(2, -9)], { iterations: 5 })).toBe(false);
    expect(converged([rec(1, -10), rec(2, -9.95)], { iterations: 5, minImprovement: 0.1 })).toBe(true);
    expect(converged([rec(1, -10), rec(2, -9)], { iterations: 5, minImprovement: 0.1 })).toBe(false);
  });
});

describe('renderLinePlotPng', () => {
  it('writes a valid RGB PNG whose pixels show the series', () => {
    const png = renderLinePlotPng(
      [
        { x: 1, y: -120.5 },
        { x: 2, y: -100 },
        { x: 3, y: -95.25 },
      ],
      { width: 320, height: 200 },
    );
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(320);
    expect(png.readUInt32BE(20)).toBe(200);
    const idatLen = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe((320 * 3 + 1) * 200);
    // some pixels carry the line colour (31, 119, 180)
    let blue = 0;
    for (let i = 0; i + 2 < raw.length; i++) if (raw[i] === 31 && raw[i + 1] === 119 && raw[i + 2] === 180) blue++;
    expect(blue).toBeGreaterThan(100);
    expect(png.subarray(png.length - 8, png.length - 4).toString('ascii')).toBe('IEND');
  });
});
