// Streaming JSONL primitives: line reading with byte offsets, atomic file writes, serialised appends.
import { createReadStream, promises as fsp, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface JsonlLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** Byte offset of the line's first byte, and its length in bytes without the newline. */
  offset: number;
  length: number;
  /** False for a last line with no trailing newline (possibly torn by a crash). */
  terminated: boolean;
}

/** Reads a file line by line without holding it in memory; blank lines are skipped (but counted). */
export async function* readLines(file: string): AsyncGenerator<JsonlLine> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  let lineNo = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    let nl = buf.indexOf(10, start);
    while (nl !== -1) {
      lineNo++;
      let end = nl;
      if (end > start && buf[end - 1] === 13) end--; // tolerate CRLF
      if (end > start) {
        yield {
          line: lineNo,
          text: buf.toString('utf8', start, end),
          offset: carryOffset + start,
          length: end - start,
          terminated: true,
        };
      }
      start = nl + 1;
      nl = buf.indexOf(10, start);
    }
    carryOffset += start;
    carry = buf.subarray(start);
    buf = carry;
  }
  if (carry.length > 0) {
    lineNo++;
    yield { line: lineNo, text: carry.toString('utf8'), offset: carryOffset, length: carry.length, terminated: false };
  }
}

export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** writeFileAtomic for small files from synchronous code (a supervisor, a script): temp file, fsync, rename. */
export function writeFileAtomicSync(file: string, content: string): void {
  const tmp = tempPathFor(file);
  writeFileSync(tmp, content, { flush: true });
  renameSync(tmp, file);
}

/** Writes a file so that readers see either the old content or the complete new one (temp file, fsync, rename). */
export async function writeFileAtomic(
  file: string,
  content: string | Buffer | AsyncIterable<string | Buffer>,
): Promise<{ bytes: number }> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const handle = await fsp.open(tmp, 'w');
  let bytes = 0;
  try {
    if (typeof content === 'string' || Buffer.isBuffer(content)) {
      const buf = typeof content === 'string' ? Buffer.from(content) : content;
      await handle.write(buf);
      bytes = buf.length;
    } else {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const piece of content) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : piece;
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= 1 << 20) {
          await handle.write(Buffer.concat(pending));
          bytes += pendingBytes;
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) await handle.write(Buffer.concat(pending));
      bytes += pendingBytes;
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fsp.rename(tmp, file);
  return { bytes };
}

/**
 * Appends lines to a file in the order they are given; writes are batched and serialised, so concurrent callers
 * never interleave partial lines. `flush()` resolves when everything given so far is in the file.
 */
export class LineAppender {
  private queue: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private failure: unknown;

  private constructor(private readonly handle: fsp.FileHandle) {}

  static async open(file: string): Promise<LineAppender> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    return new LineAppender(await fsp.open(file, 'a'));
  }

  append(line: string): void {
    if (this.failure) throw this.failure;
    this.queue.push(line.endsWith('\n') ? line : `${line}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      this.writing = this.writing.then(() => this.drain());
    }
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.join('');
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.handle.write(batch);
    } catch (err) {
      this.failure = err;
    }
  }

  async flush(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
  }
}
