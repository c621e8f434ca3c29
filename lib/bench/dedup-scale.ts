// Benchmark of the persisted near-duplicate index at corpus scale:
//   npm run bench -- dedup-scale [--problems 1000000] [--sample 20000] [--window 100000] [--seed 2025]
//                                [--domain mixed|math|code] [--designs paper,frequent-words,df-stop-words]
//                                [--frequent-share 0.001] [--frequent-sample 20000] [--bucket-limit 64]
//   npm run bench -- dedup-scale --write-vocabulary [--benchmarks DIR]   (regenerates the committed vocabulary)
//
// Realistic problems (./realistic-problems.ts: the vocabulary, lengths and stock phrasing of the benchmark
// statements) go through NearDuplicateIndex.open(file).checkAndAdd one by one, as the corpus synthesis feeds them,
// once per design, each design in a child process of its own (so that its peak memory is its own):
//   - paper: the default index (words of >= 4 letters minus the fixed stop list, MinHash 128, LSH 50 x 2, exact
//     Jaccard > 0.2 of every candidate);
//   - frequent-words: the same rule, with the words found in at least `frequent-share` of a sample of
//     `frequent-sample` problems (another seed: a first pass of the corpus) given as `frequentWords` (their own
//     LSH keys, buckets limited to `bucket-limit` documents);
//   - df-stop-words: another rule, the published code's at corpus scale made order-independent: the same
//     frequent words are stop words (`extraStopWords`, stored in the index), so they count in no Jaccard (the
//     published running cache drops every word seen 1,000 times, about 0.1% of 1M problems).
// Reported per design: problems/s and LSH candidates per check in each window of `window` problems (does the work
// per check grow with the index?), peak RSS and heap, the index's tables and file, the reload time, and agreement
// with an exact Jaccard search on the same word sets (`wordFilter().wordHashes`):
//   - sampledChecks: `sample` checks spread evenly over the run, each also decided by an exact search (an inverted
//     index of every document the index kept, over the word sets that index compares): precision and recall of the
//     index's near-duplicate decisions, and how often it names the same best Jaccard (per window too);
//   - firstProblems: the first `sample` problems deduplicated by the exact rule alone (first come wins, exact
//     text, then Jaccard > 0.2 against everything kept), against the index's decisions on them.
// Then the ratios of each design to paper. Index time only: generating problems and the exact searches are not
// counted in problems/s.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { NearDuplicateIndex, type DedupStats, type OpenOptions } from '../../activities/dedup/lsh-index';
import { frequentWords, wordFilter, type WordFilter } from '../../activities/dedup/words';
import { buildProblemVocabulary, DEFAULT_VOCABULARY_FILE, writeProblemVocabulary } from './problem-vocabulary';
import { RealisticProblemGenerator, type RealisticProblemOptions } from './realistic-problems';

const DESIGNS = ['paper', 'frequent-words', 'df-stop-words'] as const;
type Design = (typeof DESIGNS)[number];

interface ScaleArgs {
  problems: number;
  sample: number;
  window: number;
  seed: number;
  domain: 'mixed' | 'math' | 'code';
  frequentShare: number;
  frequentSample: number;
  bucketLimit: number;
  designs: Design[];
}

function argString(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? argv[i + 1] : undefined;
}

function argNumber(argv: readonly string[], name: string, fallback: number): number {
  const v = argString(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

function parseArgs(argv: readonly string[]): ScaleArgs {
  const domain = argString(argv, 'domain') ?? 'mixed';
  if (domain !== 'mixed' && domain !== 'math' && domain !== 'code')
    throw new Error(`--domain must be mixed, math or code, got ${domain}`);
  const designs = (argString(argv, 'designs') ?? DESIGNS.join(',')).split(',') as Design[];
  for (const d of designs) if (!DESIGNS.includes(d)) throw new Error(`--designs: unknown design ${d}`);
  const problems = Math.floor(argNumber(argv, 'problems', 1_000_000));
  return {
    problems,
    sample: Math.min(problems, Math.floor(argNumber(argv, 'sample', 20_000))),
    window: Math.max(1, Math.floor(argNumber(argv, 'window', Math.min(100_000, Math.max(1, problems / 10))))),
    seed: Math.floor(argNumber(argv, 'seed', 2025)),
    domain,
    frequentShare: argNumber(argv, 'frequent-share', 0.001),
    frequentSample: Math.floor(argNumber(argv, 'frequent-sample', 20_000)),
    bucketLimit: Math.floor(argNumber(argv, 'bucket-limit', 64)),
    designs,
  };
}

const MiB = 1024 * 1024;
const round = (x: number, digits = 4) => +x.toPrecision(digits);

/**
 * Exact near-duplicate search over the documents an index kept: an inverted index from word hash to documents
 * (growable typed arrays), and an intersection count per document for each query.
 */
class ExactSearch {
  private postings = new Map<number, { docs: Int32Array; n: number }>();
  private sizes = new Int32Array(1024);
  private docs = 0;
  private counts = new Int32Array(1024);
  private touched = new Int32Array(1024);
  bytes = 0;

  add(words: Uint32Array): void {
    if (this.docs === this.sizes.length) {
      const s = new Int32Array(this.docs * 2);
      s.set(this.sizes);
      this.sizes = s;
      this.counts = new Int32Array(this.docs * 2);
      this.touched = new Int32Array(this.docs * 2);
    }
    const d = this.docs++;
    this.sizes[d] = words.length;
    for (const w of words) {
      let p = this.postings.get(w);
      if (!p) this.postings.set(w, (p = { docs: new Int32Array(2), n: 0 }));
      if (p.n === p.docs.length) {
        const grown = new Int32Array(p.n * 2);
        grown.set(p.docs);
        this.bytes += p.n * 4;
        p.docs = grown;
      }
      p.docs[p.n++] = d;
    }
  }

  /** The highest Jaccard of `words` with a kept document (0 when none shares a word). */
  best(words: Uint32Array): number {
    const counts = this.counts;
    const touched = this.touched;
    let nt = 0;
    for (const w of words) {
      const p = this.postings.get(w);
      if (!p) continue;
      for (let k = 0; k < p.n; k++) {
        const d = p.docs[k]!;
        if (counts[d] === 0) touched[nt++] = d;
        counts[d]!++;
      }
    }
    let best = 0;
    for (let k = 0; k < nt; k++) {
      const d = touched[k]!;
      const inter = counts[d]!;
      const j = inter / (words.length + this.sizes[d]! - inter);
      if (j > best) best = j;
      counts[d] = 0;
    }
    return best;
  }

  get memoryBytes(): number {
    return this.bytes + this.sizes.byteLength * 3 + this.postings.size * 80;
  }
}

/** A full garbage collection (without --expose-gc on the command line). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Precision / recall of near-duplicate decisions against exact ones. */
function agreementOf(pairs: { index: boolean; exact: boolean }[]): Record<string, number> {
  let both = 0;
  let indexOnly = 0;
  let exactOnly = 0;
  for (const p of pairs) {
    if (p.index && p.exact) both++;
    else if (p.index) indexOnly++;
    else if (p.exact) exactOnly++;
  }
  return {
    checks: pairs.length,
    exactDuplicates: both + exactOnly,
    indexDuplicates: both + indexOnly,
    precision: round(both / Math.max(1, both + indexOnly), 5),
    recall: round(both / Math.max(1, both + exactOnly), 5),
    agreement: round((pairs.length - indexOnly - exactOnly) / Math.max(1, pairs.length), 5),
  };
}

/** The first `count` problems deduplicated by the exact rule alone: which are near duplicates (by ordinal). */
function exactFirstComeWins(texts: readonly string[], threshold: number, filter: WordFilter): boolean[] {
  const search = new ExactSearch();
  const seen = new Set<string>();
  return texts.map((text) => {
    const trimmed = text.trim();
    if (seen.has(trimmed)) return false; // an exact duplicate: not a near-duplicate decision
    const words = filter.wordHashes(trimmed);
    if (words.length > 0 && search.best(words) > threshold) return true;
    seen.add(trimmed);
    search.add(words);
    return false;
  });
}

interface Window {
  upTo: number;
  /** Recall of this window's sampled checks against the exact search. */
  sampledRecall: number;
  problemsPerSecond: number;
  candidatesPerCheck: number;
  kept: number;
  nearDuplicates: number;
  exactDuplicates: number;
}

/** One design's run (in its own process). */
function runDesign(design: Design, args: ScaleArgs): Record<string, unknown> {
  const generatorOptions: RealisticProblemOptions = { seed: args.seed, domain: args.domain };
  const dir = mkdtempSync(path.join(os.tmpdir(), `promptcot-dedup-scale-${design}-`));
  try {
    const options: OpenOptions = {};
    let frequent: Record<string, unknown> | undefined;
    if (design !== 'paper') {
      const t = performance.now();
      const g = new RealisticProblemGenerator({ ...generatorOptions, seed: args.seed + 1 });
      const texts = Array.from({ length: args.frequentSample }, () => g.next().text);
      const minDocuments = Math.max(2, Math.ceil(args.frequentShare * args.frequentSample));
      const words = frequentWords(texts, minDocuments);
      if (design === 'frequent-words') {
        options.frequentWords = words;
        options.frequentBucketLimit = args.bucketLimit;
      } else options.extraStopWords = words;
      frequent = {
        words: words.length,
        minDocuments,
        sample: args.frequentSample,
        ...(design === 'frequent-words' && { bucketLimit: args.bucketLimit }),
        deriveSeconds: round((performance.now() - t) / 1000),
      };
    }
    const file = path.join(dir, 'index.pclsh');
    const generator = new RealisticProblemGenerator(generatorOptions);
    // the exact search compares the word sets this index compares (its own stop words)
    const filter = wordFilter(options.extraStopWords ? { extraStopWords: options.extraStopWords } : undefined);
    const exact = new ExactSearch();
    const every = Math.max(1, Math.floor(args.problems / Math.max(1, args.sample)));
    const sampled: { index: boolean; exact: boolean }[] = [];
    let sameBest = 0;
    let bothDuplicate = 0;
    const firstTexts: string[] = [];
    const firstDecisions: boolean[] = [];
    const windows: Window[] = [];
    const peak = { heapUsed: 0 };
    let indexMs = 0;
    let windowMs = 0;
    let generateMs = 0;
    let chars = 0;
    let last: DedupStats | undefined;
    let windowSampled = 0;
    // The insert phase holds the index; once it returns, the index can be collected before the reload.
    const insertAll = () => {
      const t0 = performance.now();
      const index = NearDuplicateIndex.open(file, options);
      const openMs = performance.now() - t0;
      for (let i = 0; i < args.problems; i++) {
        let t = performance.now();
        const p = generator.next();
        generateMs += performance.now() - t;
        chars += p.text.length;
        const sampledCheck = i % every === 0 && sampled.length < args.sample;
        let words: Uint32Array | undefined;
        let exactBest = 0;
        if (sampledCheck) {
          words = filter.wordHashes(p.text.trim());
          exactBest = words.length > 0 ? exact.best(words) : 0;
        }
        t = performance.now();
        const r = index.checkAndAdd(p.id, p.text);
        const dt = performance.now() - t;
        indexMs += dt;
        windowMs += dt;
        if (sampledCheck && !(r.duplicate && r.exact)) {
          const exactSays = exactBest > index.threshold;
          sampled.push({ index: r.duplicate, exact: exactSays });
          if (r.duplicate && exactSays) {
            bothDuplicate++;
            if (Math.abs(r.jaccard - exactBest) < 1e-12) sameBest++;
          }
        }
        if (i < args.sample) {
          firstTexts.push(p.text);
          firstDecisions.push(r.duplicate && !r.exact);
        }
        if (!r.duplicate && !r.alreadyIndexed) exact.add(words ?? filter.wordHashes(p.text.trim()));
        if ((i & 4095) === 0) peak.heapUsed = Math.max(peak.heapUsed, process.memoryUsage().heapUsed);
        if ((i + 1) % args.window === 0 || i + 1 === args.problems) {
          const s = index.stats();
          const checks = s.checks - (last?.checks ?? 0);
          const inWindow = agreementOf(sampled.slice(windowSampled));
          windowSampled = sampled.length;
          windows.push({
            upTo: i + 1,
            sampledRecall: inWindow.recall!,
            problemsPerSecond: Math.round(checks / (windowMs / 1000)),
            candidatesPerCheck: round((s.candidatesChecked - (last?.candidatesChecked ?? 0)) / Math.max(1, checks)),
            kept: s.documents,
            nearDuplicates: s.nearDuplicates - (last?.nearDuplicates ?? 0),
            exactDuplicates: s.exactDuplicates - (last?.exactDuplicates ?? 0),
          });
          process.stderr.write(`dedup-scale ${design}: ${JSON.stringify(windows[windows.length - 1])}\n`);
          last = s;
          windowMs = 0;
        }
      }
      const t = performance.now();
      index.close();
      const closeMs = performance.now() - t;
      return {
        stats: index.stats(),
        threshold: index.threshold,
        bands: index.bands,
        rows: index.rows,
        openMs,
        closeMs,
      };
    };
    const { stats, threshold, bands, rows, openMs, closeMs } = insertAll();
    // the process's peak so far: the insert phase (the reload below opens a second copy)
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    const fileBytes = statSync(file).size;
    collectGarbage();
    const heapAfter = process.memoryUsage().heapUsed;
    // reload: a worker opening the corpus's index in a new pass
    const t = performance.now();
    const reopened = NearDuplicateIndex.open(file);
    const loadSeconds = (performance.now() - t) / 1000;
    const reloaded = reopened.size;
    reopened.close();
    if (reloaded !== stats.documents) throw new Error(`reloaded ${reloaded} documents of ${stats.documents}`);
    const reference = exactFirstComeWins(firstTexts, threshold, filter);
    const seconds = (indexMs + openMs + closeMs) / 1000;
    return {
      design,
      options: {
        threshold,
        bands,
        rows,
        ...(frequent && { [design === 'frequent-words' ? 'frequentWords' : 'extraStopWords']: frequent }),
      },
      seconds: round(seconds),
      problemsPerSecond: Math.round(args.problems / seconds),
      windows,
      candidatesPerCheckGrowth: round(windows[windows.length - 1]!.candidatesPerCheck / windows[0]!.candidatesPerCheck),
      throughputFirstToLast: round(windows[windows.length - 1]!.problemsPerSecond / windows[0]!.problemsPerSecond),
      kept: stats.documents,
      nearDuplicates: stats.nearDuplicates,
      exactDuplicates: stats.exactDuplicates,
      candidatesPerCheck: round(stats.candidatesChecked / stats.checks),
      bandEntries: stats.bandEntries,
      frequentKeysDropped: stats.frequentKeysDropped,
      memory: {
        peakRssMiB: round(peakRssMiB, 5),
        sampledPeakHeapUsedMiB: round(peak.heapUsed / MiB, 5),
        heapUsedAfterCloseMiB: round(heapAfter / MiB, 5),
        indexTablesMiB: round(stats.tableBytes / MiB, 5),
        exactSearchMiB: round(exact.memoryBytes / MiB, 5),
        note: 'peaks of the insert phase; the process also holds the generator and the exact search (exactSearchMiB)',
      },
      fileMiB: round(fileBytes / MiB, 5),
      reload: { seconds: round(loadSeconds), documents: reloaded },
      agreement: {
        sampledChecks: {
          ...agreementOf(sampled),
          sameBestJaccard: round(sameBest / Math.max(1, bothDuplicate), 5),
          note: 'checks spread over the run; exact search against the documents this index kept',
        },
        firstProblems: {
          ...agreementOf(firstDecisions.map((d, k) => ({ index: d, exact: reference[k]! }))),
          note: 'the first problems: this index against an exact first-come-wins run of its own',
        },
      },
      generator: {
        problemsPerSecond: Math.round(args.problems / (generateMs / 1000)),
        averageCharacters: Math.round(chars / args.problems),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one design in a child process (its memory is its own) and returns its JSON. */
function runChild(design: Design, argv: readonly string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--child', design, ...argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`dedup-scale ${design} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

type DesignResult = Record<string, unknown> & { windows: Window[]; seconds: number; fileMiB: number };

function ratios(after: DesignResult, before: DesignResult): Record<string, unknown> {
  const memoryOf = (r: DesignResult) => r.memory as Record<string, number>;
  const recallOf = (r: DesignResult) =>
    ((r.agreement as Record<string, unknown>).sampledChecks as Record<string, number>).recall!;
  return {
    seconds: round(after.seconds / before.seconds),
    throughput: round(before.seconds / after.seconds),
    throughputPerWindow: after.windows.map((w, k) => round(w.problemsPerSecond / before.windows[k]!.problemsPerSecond)),
    candidatesPerCheckPerWindow: after.windows.map((w, k) =>
      round(w.candidatesPerCheck / Math.max(1e-9, before.windows[k]!.candidatesPerCheck)),
    ),
    sampledRecall: round(recallOf(after) / recallOf(before)),
    nearDuplicates: round((after.nearDuplicates as number) / (before.nearDuplicates as number)),
    peakRss: round(memoryOf(after).peakRssMiB! / memoryOf(before).peakRssMiB!),
    indexTables: round(memoryOf(after).indexTablesMiB! / memoryOf(before).indexTablesMiB!),
    file: round(after.fileMiB / before.fileMiB),
  };
}

export async function benchDedupScale(argv: readonly string[] = process.argv): Promise<Record<string, unknown>> {
  if (argv.includes('--write-vocabulary')) {
    const vocabulary = buildProblemVocabulary(argString(argv, 'benchmarks'));
    await writeProblemVocabulary(vocabulary);
    return {
      bench: 'dedup-scale',
      wrote: path.relative(process.cwd(), DEFAULT_VOCABULARY_FILE),
      math: vocabulary.math.statistics,
      code: vocabulary.code.statistics,
    };
  }
  const args = parseArgs(argv);
  const passOn = argv.slice(argv.indexOf('dedup-scale') + 1);
  const calibration = Object.fromEntries(
    (['math', 'code'] as const).map((d) => [d, RealisticProblemGenerator.calibration(d, { seed: args.seed })]),
  );
  const results: Partial<Record<Design, DesignResult>> = {};
  for (const design of args.designs) results[design] = (await runChild(design, passOn)) as DesignResult;
  return {
    bench: 'dedup-scale',
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((x) => round(x, 3)),
    problems: args.problems,
    sample: args.sample,
    window: args.window,
    seed: args.seed,
    domain: args.domain,
    calibration: {
      note: 'word-set statistics of the real benchmark statements and of as many generated ones',
      ...calibration,
    },
    designs: results,
    ...(results.paper && {
      ratios: Object.fromEntries(
        args.designs.filter((d) => d !== 'paper').map((d) => [`${d} / paper`, ratios(results[d]!, results.paper!)]),
      ),
    }),
  };
}

if (require.main === module && process.argv.includes('--child')) {
  const design = argString(process.argv, 'child') as Design;
  if (!DESIGNS.includes(design)) throw new Error(`--child: unknown design ${design}`);
  console.log(JSON.stringify(runDesign(design, parseArgs(process.argv))));
}
