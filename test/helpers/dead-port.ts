/**
 * A loopback TCP port nothing listens on, for "connection refused" tests.
 *
 * Not "listen on port 0, close, reuse the number": the kernel hands that number to the next
 * listen(0) — in this process (a proxy the same file starts next) or in a test file running
 * beside it — and the "dead" port then answers (CI saw Rekor's "refused" case reach a replay
 * proxy). The port is drawn from below the kernel's ephemeral range, which listen(0) never
 * hands out, and is checked to refuse a connection before it is returned.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    /* not Linux: the IANA dynamic range starts at 49152 */
  }
  return 32768;
}

function refuses(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), res(false)));
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code === 'ECONNREFUSED'));
  });
}

export async function deadPort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * (low - 20000));
    if (await refuses(port)) return port;
  }
  throw new Error('deadPort: no refusing port found below the ephemeral range');
}
