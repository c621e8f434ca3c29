// A minimal `fetch` over node:http / node:https, handed to the openai client.
//
// Why not the global fetch: Node's built-in fetch (undici) cuts any request whose response headers take longer
// than 5 minutes (headersTimeout) or whose body stalls for 5 minutes, whatever the SDK timeout says, and undici's
// Agent to raise that is not importable without installing undici. Non-streaming generations of long rollouts
// routinely take longer. Here the only deadlines are the ones the inference client sets (timeoutMs per attempt,
// covering headers and body), and each endpoint gets its own keep-alive connection pool.
// The response body is read completely before the Response is handed over (no streaming: the client never
// streams, and a buffered body is several times cheaper than a web stream at thousands of requests per second).
// A body cut short rejects the fetch with ResponseBodyError.
import http from 'node:http';
import https from 'node:https';

export interface NodeHttpFetch {
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

export interface NodeHttpFetchOptions {
  /** Sockets per host (default: unlimited; the limiter bounds concurrency). */
  maxSockets?: number;
  /** Idle keep-alive sockets kept per host (default 256). */
  maxFreeSockets?: number;
}

/** The connection closed before the whole response body arrived. */
export class ResponseBodyError extends Error {
  override name = 'ResponseBodyError';
  readonly code = 'ERR_RESPONSE_BODY_INCOMPLETE';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function headersToObject(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  (headers instanceof Headers ? headers : new Headers(headers)).forEach((value, key) => {
    // The SDK's telemetry headers (x-stainless-os, -arch, -runtime, -retry-count, ...) mean nothing to model
    // servers; leaving them out saves a dozen header lines per request on both sides.
    if (!key.startsWith('x-stainless-')) out[key] = value;
  });
  return out;
}

function bodyToBuffer(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return body.toString();
  throw new TypeError('node-http fetch: only string and byte request bodies are supported');
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export function createNodeHttpFetch(options: NodeHttpFetchOptions = {}): NodeHttpFetch {
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? Infinity,
    maxFreeSockets: options.maxFreeSockets ?? 256,
    scheduling: 'lifo',
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  const fetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      let url: URL;
      let method = init.method ?? 'GET';
      let headers = headersToObject(init.headers);
      let body: string | Buffer | undefined;
      try {
        if (typeof input === 'string' || input instanceof URL) {
          url = new URL(input);
        } else {
          url = new URL(input.url);
          method = init.method ?? input.method;
          if (!init.headers) headers = headersToObject(input.headers);
        }
        body = bodyToBuffer(init.body);
      } catch (err) {
        reject(err);
        return;
      }
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const isHttps = url.protocol === 'https:';
      if (!isHttps && url.protocol !== 'http:') {
        reject(new TypeError(`node-http fetch: unsupported protocol ${url.protocol}`));
        return;
      }
      if (body !== undefined && headers['content-length'] === undefined) {
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const req = (isHttps ? https : http).request(url, {
        method: method.toUpperCase(),
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      let settled = false;
      let res: http.IncomingMessage | undefined;
      const onAbort = () => {
        const reason = abortError(signal!);
        if (!settled) {
          settled = true;
          reject(reason);
        }
        req.destroy(reason instanceof Error ? reason : undefined);
        res?.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(err);
        req.destroy();
      };
      req.on('error', fail);
      req.on('response', (incoming) => {
        res = incoming;
        const status = incoming.statusCode ?? 0;
        const hasBody = !NULL_BODY_STATUS.has(status) && method.toUpperCase() !== 'HEAD';
        const chunks: Buffer[] = [];
        let received = 0;
        incoming.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
        });
        incoming.on('error', (err) =>
          fail(new ResponseBodyError(`response body cut short after ${received} bytes: ${err.message}`, err)),
        );
        incoming.on('aborted', () => fail(new ResponseBodyError(`response body cut short after ${received} bytes`)));
        incoming.on('close', () => {
          if (!incoming.complete) fail(new ResponseBodyError(`response body cut short after ${received} bytes`));
        });
        incoming.on('end', () => {
          if (settled) return;
          if (!incoming.complete) {
            fail(new ResponseBodyError(`response body cut short after ${received} bytes`));
            return;
          }
          const headers = new Headers();
          const raw = incoming.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
          let response: Response;
          try {
            const payload = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            response = new Response(hasBody ? payload : null, {
              status,
              statusText: incoming.statusMessage ?? '',
              headers,
            });
          } catch (err) {
            fail(err);
            return;
          }
          Object.defineProperty(response, 'url', { value: url.toString() });
          settled = true;
          cleanup();
          resolve(response);
        });
      });
      req.end(body);
    });

  return {
    fetch: fetchImpl,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
