// Raw HTTP/1.1 over TCP for the HTTP campaign: bytes exactly as written (malformed request lines,
// broken framing, slow writers), the status line of whatever comes back, and when the server
// closed the connection.

import { connect, type Socket } from 'node:net';

export interface RawResult {
  /** Status code of the first response, or undefined when none came. */
  status: number | undefined;
  /** Bytes received in all. */
  bytes: number;
  /** Bytes we wrote that the kernel took. */
  written: number;
  /** The server closed (or reset) the connection before our deadline. */
  closedByServer: boolean;
  /** Milliseconds from connecting to the close (or to the deadline). */
  ms: number;
  response: string;
}

/** Connect, write `chunks` (each after `gapMs`), then wait up to `waitMs` for the server to answer and close. */
export function rawExchange(host: string, port: number, chunks: (string | Uint8Array)[], o: { gapMs?: number; waitMs?: number } = {}): Promise<RawResult> {
  const waitMs = o.waitMs ?? 5000;
  return new Promise((resolve) => {
    const started = Date.now();
    let response = '';
    let bytes = 0;
    let written = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(port, host);
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({ status: m ? Number(m[1]) : undefined, bytes, written, closedByServer, ms: Date.now() - started, response: response.slice(0, 2000) });
    };
    socket.on('data', (d) => { bytes += d.length; if (response.length < 64 * 1024) response += d.toString('latin1'); });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      let i = 0;
      const next = (): void => {
        if (done || i >= chunks.length) {
          timer = setTimeout(() => finish(false), waitMs);
          return;
        }
        const c = chunks[i++];
        socket.write(c, (err) => {
          if (err) return;
          written += c.length;
          if (o.gapMs) setTimeout(next, o.gapMs);
          else next();
        });
      };
      next();
    });
  });
}
