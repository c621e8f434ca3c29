// Table-driven tests of math answer equivalence (domain/math/equal.ts), by category. Each row of a table is
// `prediction || reference`; the test name carries the category and the pair, so a failure says which rule broke.
// Most rules are symmetric and are checked in both directions; multiple choice and percent variants are defined
// relative to the reference and are checked in the given direction only.
import { extractAnswer, mathEqual, mathEqualDetailed } from '../../domain/math';

type Pair = readonly [prediction: string, reference: string];

/** Parses a block of `prediction || reference` lines (blank lines ignored). */
function rows(block: string): Pair[] {
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const parts = line.split(' || ');
      if (parts.length !== 2) throw new Error(`bad table row: ${line}`);
      return [parts[0].trim(), parts[1].trim()] as const;
    });
}

interface Category {
  readonly equal: Pair[];
  readonly different: Pair[];
  /** Check the reversed pair too (default true). */
  readonly symmetric?: boolean;
}

const TABLE: Record<string, Category> = {
  'text answers (case-insensitive strings)': {
    equal: rows(String.raw`
      Yes || yes
      \text{Yes} || yes
      \text{No solution} || no solution
      \textbf{even} || Even
      \text{Monday} || monday
      \mathrm{odd} || odd
      \text{infinitely many} || Infinitely many
      NO || no
    `),
    different: rows(String.raw`
      yes || no
      even || odd
      abc || cba
      \text{north} || south
      \text{Monday} || Tuesday
      no solution || 0
    `),
  },
  'integers (exact)': {
    equal: rows(String.raw`
      33 || 033
      204.0 || 204
      204.000 || 204
      −984 || -984
      \boxed{70} || 70
      1,000 || 1000
      1{,}000{,}000 || 1000000
      12\,345 || 12345
      five || 5
      twenty-one || 21
      one hundred and five || 105
      0.0 || 0
      +5 || 5
      -0 || 0
      3375 || 3375
      13532215908553332190020108288000000 || 2^{25}\cdot 26!
      1e3 || 1000
      1.5\times10^{3} || 1500
      2^{10} || 1024
      10! || 3628800
      \binom{8}{3} || 56
      \tbinom{8+3-1}{3-1} || 45
    `),
    different: rows(String.raw`
      10000 || 10001
      1 || 100
      100 || 1
      20 || 2000
      33 || 3.3
      -5 || 5
      12 || 1,2
      13532215908553332190020108288000001 || 2^{25}\cdot 26!
      123456789012345678901 || 123456789012345678902
      2^{10} || 1023
      0 || 1
      808 || 809
    `),
  },
  decimals: {
    equal: rows(String.raw`
      0.5 || \frac{1}{2}
      2.50 || 2.5
      .5 || 0.5
      -.25 || -\frac{1}{4}
      0.125 || \frac18
      3.0 || 3
      0.33333 || \frac{1}{3}
      0.\overline{3} || \frac{1}{3}
      1.41421 || \sqrt{2}
      3.14159 || \pi
      2.71828 || e
      12.5 || \frac{25}{2}
    `),
    different: rows(String.raw`
      0.5 || 0.6
      0.33 || \frac{1}{3}
      0.333 || \frac13
      1.41 || \sqrt{2}
      2.5 || 25
      0.01 || 0.1
      3.05 || 3.5
    `),
  },
  fractions: {
    equal: rows(String.raw`
      \frac{1}{2} || 1/2
      \dfrac{3}{4} || \frac34
      \tfrac{3}{4} || 0.75
      \frac{6}{8} || \frac{3}{4}
      -\frac{1}{2} || \frac{-1}{2}
      \frac{1}{-2} || -0.5
      2\frac{1}{2} || \frac{5}{2}
      \frac{1311}{2017} || 1311/2017
      \frac{1}{576} || \frac{1}{576}
      \frac{448}{3} || 149\frac{1}{3}
      \frac{2025}{101} || \frac{4050}{202}
      \frac{\frac{1}{2}}{\frac{3}{4}} || \frac23
      \frac{7}{18} || 7/18
      \frac 1 2 || \frac{1}{2}
      2\cdot\frac{1}{2} || 1
      2\times\frac{3}{4} || \frac{3}{2}
    `),
    different: rows(String.raw`
      \frac{1}{2} || \frac{2}{1}
      \frac{1311}{2017} || \frac{1311}{2016}
      \frac{4}{9} || \frac{9}{4}
      -\frac{1}{2} || \frac{1}{2}
      \frac{1}{576} || 576
      \frac{448}{3} || 149
      2\frac{1}{2} || 1
      2\cdot\frac{1}{2} || \frac{5}{2}
    `),
  },
  'radicals and closed forms (exact)': {
    equal: rows(String.raw`
      \frac{\sqrt{3}}{2} || \sqrt{3}/2
      \frac{\sqrt2}{2} || \frac{1}{\sqrt2}
      2\sqrt{3} || \sqrt{12}
      \frac{9\sqrt{23}}{23} || \frac{9}{\sqrt{23}}
      \sqrt{23}-2\sqrt{3} || -2\sqrt3+\sqrt{23}
      14+4\sqrt{37} || 4\sqrt{37}+14
      \sqrt{\frac{95}{24}} || \frac{\sqrt{570}}{12}
      8\sqrt{10} || \sqrt{640}
      9\sqrt{15} || \sqrt{1215}
      \sqrt[3]{8} || 2
      8^{1/3} || 2
      \sqrt{6} || \sqrt{2}\sqrt{3}
      \sqrt{6} || \sqrt{2}\cdot\sqrt{3}
      1-\frac{2}{\pi} || \frac{\pi-2}{\pi}
      \sqrt23 || 3\sqrt{2}
      \frac{20\sqrt{21}}{63} || \frac{20}{3}\sqrt{\frac{1}{21}}
      (\sqrt{2}+1)(\sqrt{2}-1) || 1
      \sqrt{8} || 2\sqrt2
      \sqrt[3]{-8} || -2
      |{-3}| || 3
      \lfloor 2.5 \rfloor || 2
    `),
    different: rows(String.raw`
      \sqrt{2} || \frac{99}{70}
      2\sqrt3 || 3\sqrt2
      \sqrt{12} || 12
      \frac{\sqrt3}{2} || \frac{\sqrt2}{2}
      \sqrt{23}-2\sqrt{3} || \sqrt{23}+2\sqrt{3}
      14+4\sqrt{37} || 14+4\sqrt{38}
      1-\frac{2}{\pi} || 1-\frac{2}{3}
      \sqrt[3]{8} || \sqrt{8}
    `),
  },
  'decimal approximations of closed forms (tolerance 1e-4)': {
    equal: rows(String.raw`
      0.7071 || \frac{\sqrt2}{2}
      0.70710678 || \frac{\sqrt{2}}{2}
      1.7321 || \sqrt3
      3.1416 || \pi
      0.3634 || 1-\frac{2}{\pi}
      1.5708 || \frac{\pi}{2}
      7.389 || e^2
      0.6931 || \ln 2
    `),
    different: rows(String.raw`
      0.71 || \frac{\sqrt2}{2}
      1.73 || \sqrt3
      3.14 || \pi
      0.36 || 1-\frac{2}{\pi}
      1.57 || \frac{\pi}{2}
      0.7 || \ln 2
    `),
  },
  'constants pi, e, i and infinity': {
    equal: rows(String.raw`
      2\pi || \pi\cdot 2
      \frac{\pi}{2} || \pi/2
      π || \pi
      e || \mathrm{e}
      e^2 || \exp(2)
      e^{i\pi} || -1
      \ln(e) || 1
      i^2 || -1
      \infty || infinity
      \infty || +\infty
      ∞ || \infty
      -\infty || -infinity
      \frac{\pi}{4} || \arctan 1
      \sin^{-1}(1) || \frac{\pi}{2}
      \cos\frac{\pi}{3} || \frac12
      \pi r^2 || r^2\pi
    `),
    different: rows(String.raw`
      \pi || 3
      e || 2.7
      \infty || -\infty
      \infty || 10^{100}
      \pi || \pi^2
      i || -i
      e || \pi
    `),
  },
  'complex numbers': {
    equal: rows(String.raw`
      3+4i || 4i+3
      \frac{1}{2}+\frac{\sqrt3}{2}i || \frac{1+i\sqrt3}{2}
      (1+i)^2 || 2i
      \frac{1}{i} || -i
      |3+4i| || 5
      \sqrt{-4} || 2i
    `),
    different: rows(String.raw`
      3+4i || 3-4i
      1+i || 1
      2i || 2
      \sqrt{-4} || 2
    `),
  },
  // issue 12 item 11: `\sqrt{x^2} || x` was listed as equal (sample points were all positive); it is |x|, not x
  'algebraic expressions (sample points)': {
    equal: rows(String.raw`
      (x+1)^2 || x^2+2x+1
      \frac{x^2-1}{x-1} || x+1
      2x+3y || 3y+2x
      \frac{a}{b} || a/b
      \sin^2x+\cos^2x || 1
      \sqrt{x^2} || |x|
      \log_2 8 || 3
      \ln(x^2) || 2\ln x
      x(x+1) || x^2+x
      2^{n+1} || 2\cdot2^n
      \frac{n(n+1)}{2} || \frac{n^2+n}{2}
      \frac{1}{x}+\frac{1}{y} || \frac{x+y}{xy}
      (a+b)^3 || a^3+3a^2b+3ab^2+b^3
      \frac{\sqrt{3}}{2}s^2 || \frac{s^2\sqrt{3}}{2}
      \sqrt{x}\sqrt{x} || x
      e^{\ln x} || x
      x^{-1} || \frac1x
      \dfrac{2x}{4} || \frac{x}{2}
      \sum_{k=1}^{n} k || \sum_{k=1}^{n} k
      \sum_{k=1}^{10} k || 55
      \prod_{k=1}^{5} k || 120
    `),
    different: rows(String.raw`
      (x+1)^2 || x^2+1
      \sqrt{x^2} || x
      |x| || x
      2x || 2y
      x^2 || x^3
      a+b || c+b
      \sin x || \cos x
      \frac{x}{2} || \frac{2}{x}
      \frac{n(n+1)}{2} || \frac{n(n-1)}{2}
      \sum_{k=1}^{10} k || 56
      xy || x+y
    `),
  },
  'multiple choice letters': {
    symmetric: false,
    equal: rows(String.raw`
      (B) || B
      B || (B)
      \text{(C)} || C
      \textbf{(D)} || D
      (E) 12 || E
      A. || A
      \mathrm{(A)} || A
      C || \text{C}
      \text{(B) }\frac{1}{2} || B
      (D) || \textbf{(D)}
    `),
    different: rows(String.raw`
      a+b || B
      (B) || C
      \text{(A)} || (B)
      ABC || A
      B || E
      Both || B
      \frac{1}{2} || A
    `),
  },
  'tuples and points': {
    equal: rows(String.raw`
      (1,2) || (1, 2)
      \left(1,2\right) || (1,2)
      (\frac12, 3) || (0.5,3)
      (1,2,3) || (1,2,3)
      \langle 1,2\rangle || (1,2)
      (1,2) || 1,2
      (-1,\sqrt2) || (-1, \sqrt{2})
      ((1,2),(3,4)) || ((1, 2), (3, 4))
      (2\pi, -1) || (\pi\cdot2, -1)
      x=1, y=2 || (1,2)
      (a,b,c)=(1,2,3) || (1,2,3)
    `),
    different: rows(String.raw`
      (1,2) || (2,1)
      (1,2) || (1,2,3)
      (1,2) || [1,2]
      (1,2) || \{1,2\}
      (1,2) || 12
      (1,2) || 2,1
      ((1,2),(3,4)) || ((1,2),(3,5))
      (0.5,3) || (0.6,3)
    `),
  },
  'intervals (bracket kinds matter)': {
    equal: rows(String.raw`
      [1,2) || [1, 2)
      [1,2) || \left[1,2\right)
      (-\infty,3] || (-\infty, 3]
      x\in[1,2] || [1,2]
      (2,\infty) || x>2
      [5,\infty) || x\ge5
      [5,\infty) || x\geq 5
      (-\infty,4) || x<4
      (-1,3] || -1<x\le3
      [0,1] || 0\le x\le 1
      (-\infty,1)\cup(2,\infty) || (2,\infty)\cup(-\infty,1)
      (-\infty,\infty) || \mathbb{R}
      [\frac12, 1] || [0.5,1]
      (1,2) || 1<x<2
      (-\infty, 0) \cup (0, \infty) || (-\infty,0)\cup(0,+\infty)
      (3,\infty) || 3<x
    `),
    different: rows(String.raw`
      [1,2) || (1,2]
      [1,2) || [1,2]
      (1,2) || [1,2)
      (2,\infty) || [2,\infty)
      x>2 || x\ge2
      (-\infty,1)\cup(2,\infty) || (-\infty,1)
      (-\infty,1)\cup(2,\infty) || (-\infty,1]\cup[2,\infty)
      [0,1] || [0,2]
      (-\infty,4) || x>4
    `),
  },
  'sets and lists (order-insensitive)': {
    equal: rows(String.raw`
      \{1,2\} || \{2,1\}
      \{1,2,3\} || \{3,1,2\}
      1,2 || 2,1
      1, 2 || \{1,2\}
      \{1,1,2\} || \{1,2\}
      \emptyset || \varnothing
      \{\} || \emptyset
      1 \text{ and } 2 || 1,2
      x=1 \text{ or } x=2 || 1,2
      1\pm\sqrt2 || 1+\sqrt2, 1-\sqrt2
      \pm 3 || 3,-3
      \frac{-1+\sqrt{17}}{2}, \frac{-1-\sqrt{17}}{2} || \frac{-1-\sqrt{17}}{2}, \frac{-1+\sqrt{17}}{2}
      \frac{-1\pm\sqrt{17}}{2} || \frac{-1+\sqrt{17}}{2}, \frac{-1-\sqrt{17}}{2}
      \{(1,2),(3,4)\} || \{(3,4),(1,2)\}
      \{\frac12, 2\} || \{2, 0.5\}
      \{5\} || 5
      x = 2, x = -3 || -3, 2
    `),
    different: rows(String.raw`
      \{1,2\} || \{1,3\}
      \{1,2\} || \{1,2,3\}
      1,2 || 1,2,3
      \{(1,2)\} || \{(2,1)\}
      1,2 || 12
      \emptyset || 0
      1\pm\sqrt2 || 1+\sqrt2
      1,1,2 || 1,2,2
    `),
  },
  'matrices and vectors': {
    equal: rows(String.raw`
      \begin{pmatrix}1&2\\3&4\end{pmatrix} || \begin{bmatrix}1 & 2\\ 3 & 4\end{bmatrix}
      \begin{pmatrix}0.5&2\\3&4\end{pmatrix} || \begin{pmatrix}\frac12&2\\3&4\end{pmatrix}
      \begin{pmatrix}1\\2\end{pmatrix} || (1,2)
      \begin{pmatrix}1&2\end{pmatrix} || (1,2)
      \begin{array}{cc}1&0\\0&1\end{array} || \begin{pmatrix}1&0\\0&1\end{pmatrix}
      \left(\begin{matrix}1\\-1\end{matrix}\right) || (1,-1)
      \begin{pmatrix}\sqrt{4}\\ \frac{6}{3}\end{pmatrix} || \begin{pmatrix}2\\2\end{pmatrix}
    `),
    different: rows(String.raw`
      \begin{pmatrix}1&2\\3&4\end{pmatrix} || \begin{pmatrix}1&3\\2&4\end{pmatrix}
      \begin{pmatrix}1&2\\3&4\end{pmatrix} || \begin{pmatrix}1&2\\3&5\end{pmatrix}
      \begin{pmatrix}1&2\\3&4\end{pmatrix} || \begin{pmatrix}1&2\end{pmatrix}
      \begin{pmatrix}1\\2\end{pmatrix} || (2,1)
      \begin{pmatrix}1&2\\3&4\end{pmatrix} || (1,2,3,4)
    `),
  },
  // issue 12 item 12: `x+y=5 || 5` was listed as different; an equation naming a quantity (`a+b=25`, `f(2)=5`)
  // now has the value of its constant side, so it moved to `equal` (`x+1=5 || 5`, an equation to solve, stays different)
  equations: {
    equal: rows(String.raw`
      y=2x+1 || 2x+1=y
      y=2x+1 || y-2x=1
      y=2x+1 || 2x+1
      x=3 || 3
      k=\frac{1}{2} || 0.5
      x^2+y^2=1 || y^2+x^2=1
      2y=4x+2 || y=2x+1
      x=3 || y=3
      f(x)=x^2 || x^2
      x^2+y^2=25 || x^2+y^2-25=0
      \theta = \frac{\pi}{6} || \frac{\pi}{6}
      y = \frac{1}{2}x || x = 2y
      AB = 5 || 5
      x+y=5 || 5
    `),
    different: rows(String.raw`
      y=2x+1 || y=2x-1
      x^2+y^2=1 || x^2+y^2=2
      y=2x+1 || x=2y+1
      2x=4 || 24
      y=x || y=-x
      y=x^2 || y=x^3
      x+1=5 || 5
    `),
  },
  'percent variants (marked by a percent sign)': {
    symmetric: false,
    equal: rows(String.raw`
      0.5 || 50\%
      50\% || 0.5
      50 || 50\%
      25 percent || 25
      12.5\% || \frac18
      \frac{1}{4} || 25%
      0.3 || 30\%
    `),
    different: rows(String.raw`
      1 || 100
      0.2 || 20
      2000 || 20
      50\% || 0.05
      0.5 || 5\%
      30 || 3\%
    `),
  },
  'units, degrees and currency': {
    equal: rows(String.raw`
      5\text{ cm} || 5
      5 cm || 5
      12\text{ square units} || 12
      336^\circ || 336
      30^{\circ} || 30
      \$5 || 5
      5 dollars || 5
      \frac{1}{2}\text{ hours} || 0.5
      60\mbox{ mph} || 60
      45° || 45
      10\ \text{m} || 10
      20\text{ cm}^2 || 20
      3 \text{ meters} || 3.0
      100\text{ km/h} || 100
      \$1,000 || 1000
      24 \mathrm{cm} || 24
      15 degrees || 15
      8 hours || 8
    `),
    different: rows(String.raw`
      5\text{ cm} || 6
      2\mathrm{e} || 2
      2m || 2
      30^\circ || 60
      \$5 || 50
      12\text{ square units} || 144
    `),
  },
  'normalisation details': {
    equal: rows(String.raw`
      \left(\frac{1}{2}\right) || \frac12
      \frac12 || \frac{1}{2}
      \sqrt2 || \sqrt{2}
      \displaystyle\frac{1}{2} || 0.5
      $\frac{1}{2}$ || 1/2
      \(\frac12\) || 0.5
      {5} || 5
      5. || 5
      :5 || 5
      \boxed{\frac{7}{16}} || \frac{7}{16}
      \fbox{23} || 23
      \framebox{204} || 204
      \!\!5 || 5
      \frac{1}{2}\, || \frac12
      \sqrt[3]2 || 2^{1/3}
      \dfrac{1}{\dfrac{1}{2}} || 2
      \left\{1,2\right\} || \{1,2\}
      \lbrace 3 \rbrace || 3
      x \in \{1, 2\} || \{1,2\}
      \textbf{(211)} || 211
    `),
    different: rows(String.raw`
      \frac{1}{2} || \frac{1}{3}
      \sqrt{2} || 2
      \boxed{5} || 6
      \rightarrow || \leftarrow
    `),
  },
};

/** Completions in real model-output shapes, with their reference answers. */
const EXTRACTION_CASES: ReadonlyArray<{ name: string; completion: string; reference: string; equal: boolean }> = [
  {
    name: 'long reasoning, several boxed answers, the last after </think> wins',
    completion: String.raw`Okay, let me think. First guess: \boxed{12}. Hmm, that ignores the constraint a \neq 0.
Let me redo it. Actually the count is \boxed{15}... wait, no.
Recount: $\sum_{k=1}^{5} k = 15$, plus the extra case gives 16.
</think>

We count the cases and obtain **16**.

Therefore the answer is $\boxed{16}$.`,
    reference: '16',
    equal: true,
  },
  {
    name: 'nested braces in the box',
    completion: String.raw`</think>The height is $\boxed{\frac{\sqrt{3}}{2}}$.`,
    reference: String.raw`\sqrt{3}/2`,
    equal: true,
  },
  {
    name: 'multiple-choice box with \\text',
    completion: String.raw`...so only option C works.</think>The answer is $\boxed{\text{(C)}}$`,
    reference: 'C',
    equal: true,
  },
  {
    name: 'answer with a unit inside the box',
    completion: String.raw`</think>Total time: $\boxed{204 \text{ minutes}}$.`,
    reference: '204',
    equal: true,
  },
  {
    name: 'box inside the reasoning does not count when the final part has another answer',
    completion: String.raw`Maybe \boxed{7}? No.</think> The final answer is 9.`,
    reference: '9',
    equal: true,
  },
  {
    name: 'box inside the reasoning only: the final part falls back to its last number',
    completion: String.raw`Maybe \boxed{7}</think> So there are 8 ways.`,
    reference: '7',
    equal: false,
  },
  {
    name: 'box without braces',
    completion: String.raw`</think> Hence $\boxed 5$.`,
    reference: '5',
    equal: true,
  },
  {
    name: 'truncated last box is skipped for the previous complete one',
    completion: String.raw`</think> We get \boxed{\frac{1}{2}} and then \boxed{\frac{3`,
    reference: String.raw`\frac12`,
    equal: true,
  },
  {
    name: 'empty box is skipped',
    completion: String.raw`</think> \boxed{42}. Put the answer in \boxed{}.`,
    reference: '42',
    equal: true,
  },
  {
    name: '"the answer is" without a box, cut at the sentence end',
    completion: 'After simplifying, the answer is 3.5. This matches the estimate of 4.',
    reference: '7/2',
    equal: true,
  },
  {
    name: 'last number fallback ignores a comma between numbers',
    completion: 'The roots are 1, 2',
    reference: '2',
    equal: true,
  },
  {
    name: 'last number keeps thousands separators',
    completion: 'So the total is 1,234',
    reference: '1234',
    equal: true,
  },
  {
    name: 'word "boxed" in prose after the real box does not break extraction',
    completion: String.raw`</think>$\boxed{(1,2)}$ is the point I boxed above.`,
    reference: '(1, 2)',
    equal: true,
  },
  {
    name: 'interval in a box keeps its brackets',
    completion: String.raw`</think>$\boxed{[1, 2)}$`,
    reference: '(1,2]',
    equal: false,
  },
  {
    name: 'AIME 2024 style: leading zeros in the box',
    completion: String.raw`</think>$|4a+3b+2c| = \frac{25}{8} \implies \boxed{033}$`,
    reference: '33',
    equal: true,
  },
  {
    name: 'set answer in a box with \\left\\{',
    completion: String.raw`</think>The solutions are $\boxed{\left\{ -3, 2 \right\}}$.`,
    reference: '2, -3',
    equal: true,
  },
  {
    name: 'no answer at all',
    completion: 'I could not finish.',
    reference: '5',
    equal: false,
  },
];

function pairCount(): number {
  return Object.values(TABLE).reduce((n, c) => n + c.equal.length + c.different.length, 0) + EXTRACTION_CASES.length;
}

describe('math answer equivalence table', () => {
  it('has at least 300 pairs', () => {
    expect(pairCount()).toBeGreaterThanOrEqual(300);
  });

  describe.each(Object.entries(TABLE))('%s', (category, { equal, different, symmetric = true }) => {
    it.each(equal)(`equal: %s  ==  %s`, (prediction, reference) => {
      expect({ category, prediction, reference, equal: mathEqual(prediction, reference) }).toEqual({
        category,
        prediction,
        reference,
        equal: true,
      });
      if (symmetric) expect(mathEqual(reference, prediction)).toBe(true);
    });
    it.each(different)(`different: %s  !=  %s`, (prediction, reference) => {
      expect({ category, prediction, reference, equal: mathEqual(prediction, reference) }).toEqual({
        category,
        prediction,
        reference,
        equal: false,
      });
      if (symmetric) expect(mathEqual(reference, prediction)).toBe(false);
    });
  });

  describe('extraction from real completion shapes', () => {
    it.each(EXTRACTION_CASES)('$name', ({ completion, reference, equal }) => {
      expect(mathEqual(extractAnswer(completion), reference)).toBe(equal);
    });
  });
});

describe('mathEqualDetailed', () => {
  it('never treats empty answers as equal (the published "" == "" bug)', () => {
    expect(mathEqualDetailed('', '')).toEqual({ equal: false, timedOut: false, method: 'empty' });
    expect(mathEqualDetailed('   ', '5').equal).toBe(false);
    expect(mathEqualDetailed(null, undefined).equal).toBe(false);
    expect(mathEqualDetailed('\\boxed{}', '\\text{}').equal).toBe(false);
  });

  it('reports how equality was decided', () => {
    expect(mathEqualDetailed('\\dfrac{1}{2}', '\\frac12').method).toBe('string');
    expect(mathEqualDetailed('(B)', 'B').method).toBe('choice');
    expect(mathEqualDetailed('0.5', '\\frac12').method).toBe('value');
    expect(mathEqualDetailed('y=2x+1', '2x+1=y').method).toBe('equation');
    expect(mathEqualDetailed('\\{1,2\\}', '\\{2,1\\}').method).toBe('structure');
    expect(mathEqualDetailed('1', '2')).toEqual({ equal: false, timedOut: false, method: 'none' });
  });

  it.each([
    ['a tower of powers', '9^{9^{9}}', '9^{9^9}+1', 'magnitude'],
    ['a factorial beyond double range', '1000000!', '5', 'magnitude'],
    ['a sum to a billion', '\\sum_{k=1}^{1000000000} k', '500000000500000000', 'steps'],
    ['a huge binomial coefficient', '\\binom{100000}{50000}', '7', 'steps'],
    ['a very long answer', 'x+'.repeat(1500) + 'x', 'x', 'input-size'],
  ])('stops %s and says a bound was hit', (_name, prediction, reference, bound) => {
    const started = process.hrtime.bigint();
    const result = mathEqualDetailed(prediction, reference);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(result).toEqual({ equal: false, timedOut: true, bound, method: 'none' });
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('a smaller step budget stops earlier, deterministically', () => {
    const sum = '\\sum_{k=1}^{5000} k^2';
    expect(mathEqualDetailed(sum, '41679167500').equal).toBe(true);
    const tight = mathEqualDetailed(sum, '41679167500', { stepBudget: 1000 });
    expect(tight).toEqual({ equal: false, timedOut: true, bound: 'steps', method: 'none' });
    expect(mathEqualDetailed(sum, '41679167500', { stepBudget: 1000 })).toEqual(tight);
  });

  it('equality found before a bound is still equality', () => {
    expect(mathEqualDetailed('9^{9^9}', '9^{9^{9}}')).toEqual({ equal: true, timedOut: false, method: 'string' });
  });

  it('percent variants follow the percent option', () => {
    expect(mathEqual('1', '100')).toBe(false);
    expect(mathEqual('1', '100', { percent: 'always' })).toBe(true);
    expect(mathEqual('2000', '20', { percent: 'always' })).toBe(true);
    expect(mathEqual('0.5', '50\\%', { percent: 'never' })).toBe(false);
    expect(mathEqual('50', '50\\%', { percent: 'never' })).toBe(true);
  });

  it('the relative tolerance for decimals is configurable', () => {
    expect(mathEqual('3.14', '\\pi')).toBe(false);
    expect(mathEqual('3.14', '\\pi', { relativeTolerance: 1e-3 })).toBe(true);
    // exact forms are never compared with the decimal tolerance
    expect(mathEqual('\\frac{314}{100}', '\\pi', { relativeTolerance: 1e-3 })).toBe(false);
  });
});
