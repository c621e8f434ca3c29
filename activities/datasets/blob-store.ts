// The object store behind an `s3://bucket/prefix` storage root: keys under the prefix, whole objects only.
//
// Any S3-compatible server works: path-style addressing (no bucket host names to resolve) and checksums only where
// an operation requires one (servers other than AWS reject or ignore the SDK's default CRC32 trailers).
// A PUT replaces an object whole, so readers see either the old object or the complete new one: that is the
// object-store counterpart of the file store's temp file + rename.
import { promises as fsp } from 'node:fs';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

export interface ObjectInfo {
  /** Key relative to the store's prefix, with `/` separators. */
  key: string;
  size: number;
}

/** What the dataset store needs of an object store; keys are relative to the storage root. */
export interface ObjectStore {
  /** The storage root as configured, for messages. */
  readonly url: string;
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, body: Buffer | string): Promise<void>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix` (a folder is `dir/`). */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(keys: string[]): Promise<void>;
}

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slashes ('' for the bucket's top). */
  prefix: string;
}

export function isObjectStoreRoot(root: string): boolean {
  return root.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || m[1] === '') throw new Error(`not an s3:// storage root: ${url}`);
  return { bucket: m[1]!, prefix: m[2]!.replace(/^\/+|\/+$/g, '') };
}

export interface S3Options {
  /** The server's address (e.g. http://127.0.0.1:9000); the SDK's own default (AWS_ENDPOINT_URL, AWS) otherwise. */
  endpoint?: string;
  region?: string;
}

function isMissing(err: unknown): boolean {
  if (err instanceof NoSuchKey || err instanceof NotFound) return true;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  readonly location: S3Location;

  constructor(
    readonly url: string,
    options: S3Options = {},
  ) {
    this.location = parseS3Url(url);
    const config: S3ClientConfig = {
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    this.client = new S3Client(config);
  }

  private fullKey(key: string): string {
    return this.location.prefix === '' ? key : `${this.location.prefix}/${key}`;
  }

  private relativeKey(full: string): string {
    return this.location.prefix === '' ? full : full.slice(this.location.prefix.length + 1);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }),
      );
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.location.bucket,
        Key: this.fullKey(key),
        Body: buf,
        ContentLength: buf.length,
      }),
    );
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }),
      );
      return { key, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.fullKey(prefix),
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: this.relativeKey(o.Key), size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      if (batch.length === 0) continue;
      // DeleteObjects is one of the operations that require a checksum (Content-MD5 or a CRC): the SDK adds it
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.location.bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.fullKey(k) })), Quiet: true },
        }),
      );
    }
  }
}

/** Uploads a local file whole (the caller's file is complete: written by temp + rename, or flushed). */
export async function putFile(objects: ObjectStore, key: string, file: string): Promise<void> {
  await objects.put(key, await fsp.readFile(file));
}
