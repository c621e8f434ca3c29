// A small line plot rendered straight to PNG (RGB, zlib from node:zlib, no drawing library): axes, grid lines,
// tick labels in a 3×5 pixel font, and the series as a polyline with a dot per point (the EM report's mean reward
// per iteration), or as bars (the SFT report's token-length histogram).
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

  dot(x: number, y: number, radius: number, c: Rgb): void {
    for (let dx = -radius; dx <= radius; dx++)
      for (let dy = -radius; dy <= radius; dy++) if (dx * dx + dy * dy <= radius * radius) this.set(x + dx, y + dy, c);
  }

  /** Text in the 3×5 font, `scale` pixels per font pixel; (x, y) is the top-left corner. */
  text(s: string, x: number, y: number, c: Rgb, scale = 2): void {
    for (const [n, ch] of [...s].entries()) {
      const rows = GLYPHS[ch];
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

export { Canvas };
