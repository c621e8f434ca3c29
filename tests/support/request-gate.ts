// An HTTP pass-through in front of the fake OpenAI server that holds back chosen requests until the test lets them
// go: a way to keep a run inside one step for exactly as long as a test needs (a browser test pausing a run in the
// middle of a step, a progress display that must show one value before it moves on), with no timing guesses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hold {
  /** Requests held back by this hold so far (released or not). */
  readonly held: number;
  /** Lets the held requests through, and every later one that matches. */
  release(): void;
}

export interface RequestGate {
  /** Base URL to give the client instead of the target's (same path layout: http://127.0.0.1:PORT/v1). */
  url: string;
  /** Holds every request from now on whose JSON body `matches` (evaluated once, as the request arrives). */
  hold(matches: (body: Record<string, unknown>) => boolean): Hold;
  close(): Promise<void>;
}

interface HoldState {
  matches: (body: Record<string, unknown>) => boolean;
  held: number;
  released: boolean;
  waiting: Array<() => void>;
}

function parse(raw: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `target`: the base URL of the server to forward to, e.g. the fake's `http://127.0.0.1:PORT/v1`. */
export async function startRequestGate(target: string): Promise<RequestGate> {
  const to = new URL(target);
  const holds: HoldState[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = parse(raw);
      const hold = holds.find((h) => !h.released && h.matches(body));
      const forward = () => {
        const upstream = http.request(
          {
            host: to.hostname,
            port: to.port,
            method: req.method,
            // the client's path already carries the base path (/v1/...)
            path: req.url,
            headers: { ...req.headers, host: to.host },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(raw);
      };
      if (!hold) return forward();
      hold.held++;
      hold.waiting.push(forward);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname.replace(/\/$/, '')}`,
    hold(matches) {
      const state: HoldState = { matches, held: 0, released: false, waiting: [] };
      holds.push(state);
      return {
        get held() {
          return state.held;
        },
        release() {
          state.released = true;
          for (const go of state.waiting.splice(0)) go();
        },
      };
    },
    async close() {
      for (const h of holds) h.released = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
