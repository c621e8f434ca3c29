// A small line plot rendered straight to PNG (RGB, zlib from node:zlib, no drawing library): axes, grid lines,
// tick labels in a 3×5 pixel font, and the series as a polyline with a dot per point (the EM report's mean reward
// per iteration), or as bars (the SFT report's token-length histogram), or as grouped bars with whiskers (the
// evaluation report's accuracy per benchmark and model, with its CI; labels in a 3×5 upper-case font), or as labelled
// points on equal-scale axes (the corpus analysis' MDS map).
import { deflateSync } from 'node:zlib';

export interface Point {
  x: number;
  y: number;
}

type Rgb = readonly [number, number, number];
const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [60, 60, 60];
const LINE: Rgb = [31, 119, 180];

// 3×5 glyphs, rows top to bottom, 3 bits each (4 = left pixel)
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '-': [0, 0, 7, 0, 0],
  '.': [0, 0, 0, 0, 2],
  e: [0, 7, 7, 4, 7],
  '+': [0, 2, 7, 2, 0],
};

// the bar chart's labels: the digits above plus upper-case letters and a few signs (text is upper-cased first)
const LABEL_GLYPHS: Record<string, number[]> = {
  ...GLYPHS,
  A: [2, 5, 7, 5, 5],
  B: [6, 5, 6, 5, 6],
  C: [3, 4, 4, 4, 3],
  D: [6, 5, 5, 5, 6],
  E: [7, 4, 6, 4, 7],
  F: [7, 4, 6, 4, 4],
  G: [3, 4, 5, 5, 3],
  H: [5, 5, 7, 5, 5],
  I: [7, 2, 2, 2, 7],
  J: [1, 1, 1, 5, 2],
  K: [5, 5, 6, 5, 5],
  L: [4, 4, 4, 4, 7],
  M: [5, 7, 7, 5, 5],
  N: [6, 5, 5, 5, 5],
  O: [2, 5, 5, 5, 2],
  P: [6, 5, 6, 4, 4],
  Q: [2, 5, 5, 6, 3],
  R: [6, 5, 6, 5, 5],
  S: [3, 4, 2, 1, 6],
  T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7],
  V: [5, 5, 5, 5, 2],
  W: [5, 5, 7, 7, 5],
  X: [5, 5, 2, 5, 5],
  Y: [5, 5, 2, 2, 2],
  Z: [7, 1, 2, 4, 7],
  '%': [5, 1, 2, 4, 5],
  '/': [1, 1, 2, 4, 4],
  '(': [2, 4, 4, 4, 2],
  ')': [2, 1, 1, 1, 2],
  _: [0, 0, 0, 0, 7],
  ':': [0, 2, 0, 2, 0],
  '@': [7, 5, 7, 4, 7],
};

// bar colours of the series, in order (then repeated)
const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
];

class Canvas {
  readonly pixels: Buffer;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = Buffer.alloc(width * height * 3, 255);
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.pixels[i] = c[0];
    this.pixels[i + 1] = c[1];
    this.pixels[i + 2] = c[2];
  }

  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = Math.floor(thickness / 2);
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dx = -r; dx <= r; dx++) for (let dy = -r; dy <= r; dy++) this.set(x + dx, y + dy, c);
    }
  }

  /** A filled rectangle between the corners (either order). */
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const [xa, xb] = [Math.round(Math.min(x0, x1)), Math.round(Math.max(x0, x1))];
    const [ya, yb] = [Math.round(Math.min(y0, y1)), Math.round(Math.max(y0, y1))];
    for (let x = xa; x <= xb; x++) for (let y = ya; y <= yb; y++) this.set(x, y, c);
  }

  dot(x: number, y: number, radius: number, c: Rgb): void {
    for (let dx = -radius; dx <= radius; dx++)
      for (let dy = -radius; dy <= radius; dy++) if (dx * dx + dy * dy <= radius * radius) this.set(x + dx, y + dy, c);
  }

  /** Text in the 3×5 font, `scale` pixels per font pixel; (x, y) is the top-left corner. */
  text(s: string, x: number, y: number, c: Rgb, scale = 2, glyphs: Record<string, number[]> = GLYPHS): void {
    for (const [n, ch] of [...s].entries()) {
      const rows = glyphs[ch];
      if (!rows) continue;
      rows.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) {
          if (!(bits & (4 >> col))) continue;
          for (let a = 0; a < scale; a++)
            for (let b = 0; b < scale; b++) this.set(x + (n * 4 + col) * scale + a, y + row * scale + b, c);
        }
      });
    }
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

export function encodePng(canvas: Canvas): Buffer {
  const { width, height, pixels } = canvas;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-2 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** The points as a line plot (x ascending); an empty series gives the empty axes. */
export function renderLinePlotPng(points: readonly Point[], size: { width: number; height: number }): Buffer {
  const canvas = new Canvas(size.width, size.height);
  const left = 90;
  const right = 20;
  const top = 20;
  const bottom = 40;
  const pts = [...points].sort((a, b) => a.x - b.x);
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const pad = (yMax - yMin) * 0.08;
  yMin -= pad;
  yMax += pad;
  const px = (x: number) => left + (xMax === xMin ? 0.5 : (x - xMin) / (xMax - xMin)) * (size.width - left - right);
  const py = (y: number) => size.height - bottom - ((y - yMin) / (yMax - yMin)) * (size.height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    canvas.line(left, py(y), size.width - right, py(y), GRID);
    canvas.text(label(y), 4, py(y) - 5, AXIS);
  }
  for (const x of xs) canvas.text(label(x), px(x) - 3, size.height - bottom + 8, AXIS);
  canvas.line(left, top, left, size.height - bottom, AXIS, 2);
  canvas.line(left, size.height - bottom, size.width - right, size.height - bottom, AXIS, 2);
  for (let i = 1; i < pts.length; i++)
    canvas.line(px(pts[i - 1]!.x), py(pts[i - 1]!.y), px(pts[i]!.x), py(pts[i]!.y), LINE, 3);
  for (const p of pts) canvas.dot(px(p.x), py(p.y), 4, LINE);
  return encodePng(canvas);
}

export interface Bin {
  /** lower edge of the bin */
  from: number;
  count: number;
}

/** A histogram of equal-width bins as bars (the x labels are the lower edges of every few bins). */
export function renderHistogramPng(bins: readonly Bin[], size: { width: number; height: number }): Buffer {
  const canvas = new Canvas(size.width, size.height);
  const left = 90;
  const right = 20;
  const top = 20;
  const bottom = 40;
  const yMax = Math.max(1, ...bins.map((b) => b.count));
  const plotWidth = size.width - left - right;
  const barWidth = bins.length > 0 ? plotWidth / bins.length : plotWidth;
  const py = (y: number) => size.height - bottom - (y / yMax) * (size.height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    canvas.line(left, py(y), size.width - right, py(y), GRID);
    canvas.text(label(Math.round(y)), 4, py(y) - 5, AXIS);
  }
  const labelEvery = Math.max(1, Math.ceil(bins.length / 8));
  bins.forEach((b, i) => {
    const x0 = left + i * barWidth;
    for (let x = Math.ceil(x0 + 1); x < x0 + barWidth - 1; x++) canvas.line(x, py(0), x, py(b.count), LINE);
    if (i % labelEvery === 0) canvas.text(label(b.from), x0, size.height - bottom + 8, AXIS);
  });
  canvas.line(left, top, left, size.height - bottom, AXIS, 2);
  canvas.line(left, size.height - bottom, size.width - right, size.height - bottom, AXIS, 2);
  return encodePng(canvas);
}

export interface Bar {
  value: number;
  /** the whisker's ends (a CI); no whisker without both */
  lo?: number;
  hi?: number;
}

export interface BarGroup {
  /** shown under the group (upper-cased; letters, digits and a few signs) */
  label: string;
  /** one per series, in the order of `series`; null or missing: no bar */
  bars: readonly (Bar | null)[];
}

/** Width in pixels of a label in the bar chart's font. */
function labelWidth(s: string, scale: number): number {
  return s.length * 4 * scale - scale;
}

/**
 * Grouped bars: one group per entry of `groups`, one bar per series in its colour, a whisker from `lo` to `hi`, the
 * legend of the series across the top. The y axis runs from 0 (or the lowest value below it) to `yMax` (default: the
 * highest value or whisker end); bars are clipped to the axis.
 */
export function renderBarChartPng(
  groups: readonly BarGroup[],
  options: { width: number; height: number; series: readonly string[]; yMax?: number },
): Buffer {
  const { width, height, series } = options;
  const canvas = new Canvas(width, height);
  const scale = 2;
  const upper = (s: string) => s.toUpperCase();
  const left = 70;
  const right = 20;
  const legendRow = 8 * scale;
  const top = 16 + legendRow * Math.ceil(series.length / 2);
  const bottom = 36;
  const values = groups.flatMap((g) => g.bars.flatMap((b) => (b ? [b.value, b.lo ?? b.value, b.hi ?? b.value] : [])));
  const finite = values.filter(Number.isFinite);
  const yMin = Math.min(0, ...finite);
  let yMax = options.yMax ?? Math.max(0, ...finite);
  if (yMax <= yMin) yMax = yMin + 1;
  const plotBottom = height - bottom;
  const py = (y: number) =>
    plotBottom - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * (plotBottom - top);

  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    canvas.line(left, py(y), width - right, py(y), GRID);
    canvas.text(label(y), 4, py(y) - 5, AXIS);
  }

  // legend: two columns of colour swatch + name
  series.forEach((name, i) => {
    const x = 8 + (i % 2) * Math.floor((width - 16) / 2);
    const y = 8 + Math.floor(i / 2) * legendRow;
    canvas.rect(x, y, x + 5 * scale, y + 5 * scale - 1, PALETTE[i % PALETTE.length]!);
    canvas.text(upper(name), x + 8 * scale, y, AXIS, scale, LABEL_GLYPHS);
  });

  const plotWidth = width - left - right;
  const groupWidth = groups.length > 0 ? plotWidth / groups.length : plotWidth;
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + groupWidth * 0.1;
    group.bars.forEach((bar, i) => {
      if (!bar || !Number.isFinite(bar.value) || i >= series.length) return;
      const colour = PALETTE[i % PALETTE.length]!;
      const xa = x0 + i * barWidth + 1;
      const xb = x0 + (i + 1) * barWidth - 2;
      canvas.rect(xa, py(0), xb, py(bar.value), colour);
      if (bar.lo !== undefined && bar.hi !== undefined && Number.isFinite(bar.lo) && Number.isFinite(bar.hi)) {
        const xm = (xa + xb) / 2;
        const cap = Math.max(1, Math.min(4, (xb - xa) / 3));
        canvas.line(xm, py(bar.lo), xm, py(bar.hi), AXIS, 1);
        canvas.line(xm - cap, py(bar.lo), xm + cap, py(bar.lo), AXIS, 1);
        canvas.line(xm - cap, py(bar.hi), xm + cap, py(bar.hi), AXIS, 1);
      }
    });
    const text = upper(group.label);
    canvas.text(
      text,
      left + g * groupWidth + (groupWidth - labelWidth(text, scale)) / 2,
      plotBottom + 10,
      AXIS,
      scale,
      LABEL_GLYPHS,
    );
  });
  canvas.line(left, top, left, plotBottom, AXIS, 2);
  canvas.line(left, py(0), width - right, py(0), AXIS, 2);
  return encodePng(canvas);
}

export { Canvas };

export interface ScatterPoint {
  x: number;
  y: number;
  /** written beside the dot (upper-cased; letters, digits and a few signs) */
  label: string;
}

/**
 * Labelled points on equal-scale axes (one unit is as long across as up: distances in the picture are the data's,
 * as an MDS map needs), a dot per point in the palette's colours and its label beside it, grid lines through the
 * ticks and the origin's axes when they fall inside.
 */
export function renderScatterPng(points: readonly ScatterPoint[], size: { width: number; height: number }): Buffer {
  const canvas = new Canvas(size.width, size.height);
  const scale = 2;
  const margin = { left: 90, right: 30, top: 30, bottom: 40 };
  const plotW = size.width - margin.left - margin.right;
  const plotH = size.height - margin.top - margin.bottom;
  const xs = points.map((p) => p.x).filter(Number.isFinite);
  const ys = points.map((p) => p.y).filter(Number.isFinite);
  const cx = xs.length ? (Math.min(...xs) + Math.max(...xs)) / 2 : 0;
  const cy = ys.length ? (Math.min(...ys) + Math.max(...ys)) / 2 : 0;
  const spanX = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  const spanY = ys.length ? Math.max(...ys) - Math.min(...ys) : 0;
  // one scale for both axes, with a margin of 15% around the points
  let unit = Math.max(spanX / plotW, spanY / plotH) * 1.3;
  if (!(unit > 0)) unit = 1 / Math.min(plotW, plotH);
  const xMin = cx - (plotW / 2) * unit;
  const yMin = cy - (plotH / 2) * unit;
  const px = (x: number) => margin.left + (x - xMin) / unit;
  const py = (y: number) => size.height - margin.bottom - (y - yMin) / unit;
  const step = Number(((Math.max(plotW, plotH) * unit) / 5).toPrecision(1));
  for (let t = Math.ceil(xMin / step) * step; t <= xMin + plotW * unit; t += step) {
    canvas.line(px(t), margin.top, px(t), size.height - margin.bottom, GRID);
    canvas.text(label(t), px(t) - 6, size.height - margin.bottom + 8, AXIS);
  }
  for (let t = Math.ceil(yMin / step) * step; t <= yMin + plotH * unit; t += step) {
    canvas.line(margin.left, py(t), size.width - margin.right, py(t), GRID);
    canvas.text(label(t), 4, py(t) - 5, AXIS);
  }
  canvas.line(margin.left, margin.top, margin.left, size.height - margin.bottom, AXIS, 2);
  canvas.line(
    margin.left,
    size.height - margin.bottom,
    size.width - margin.right,
    size.height - margin.bottom,
    AXIS,
    2,
  );
  points.forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
    const colour = PALETTE[i % PALETTE.length]!;
    canvas.dot(px(p.x), py(p.y), 6, colour);
    canvas.text(p.label.toUpperCase(), px(p.x) + 10, py(p.y) - 5, AXIS, scale, LABEL_GLYPHS);
  });
  return encodePng(canvas);
}
