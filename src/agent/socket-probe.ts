/** Whether something accepts connections on a unix socket: the client's "is an agent running?" and the server's "is the socket taken?". node: built-ins only (signing path). */
import { connect } from 'node:net';

/** Is something answering on `path`? (connect succeeds within `timeoutMs`). */
export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
