/**
 * Run a command on a real pseudo-terminal (python3's pty module), for tests about what a person
 * sees: the child's stdin, stdout, stderr and /dev/tty are the pty, with the given window size.
 * Output is collected as it arrives, so a test can wait for a line and look at the world (is the
 * command still running? did the commit land?) before the command ends.
 */
import { spawn } from 'node:child_process';

const PTY_PY = `
import fcntl, os, pty, struct, sys, termios
cols, rows = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)
out = sys.stdout.buffer
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out.write(data)
    out.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
`;

export interface PtyRun {
  /** Everything the terminal showed so far (\r\n as the terminal gets it). */
  readonly output: string;
  /** What the screen shows, line by line: carriage returns and "erase line" applied, colours dropped. */
  readonly text: string;
  readonly done: boolean;
  /** Resolves with the output once `re` matches it (rejects when the command ends first). */
  waitFor(re: RegExp): Promise<string>;
  /** Resolves with the exit status. */
  exited: Promise<number>;
}

/**
 * The lines a terminal would show for `raw`: \r returns to the line's start, ESC[2K (and ESC[K)
 * erase it, other escape sequences (colours) take no room. Enough for spinners and status lines.
 */
export function screenLines(raw: string): string {
  const out: string[] = [];
  for (const line of raw.split('\n')) {
    let cells: string[] = [];
    let col = 0;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === '\r') {
        col = 0;
        continue;
      }
      if (ch === '\u001b') {
        // eslint-disable-next-line no-control-regex
        const m = /^\u001b\[([0-9;?]*)([A-Za-z])/.exec(line.slice(i));
        if (m) {
          if (m[2] === 'K') cells = m[1] === '2' ? [] : cells.slice(0, col);
          i += m[0].length - 1;
        }
        continue;
      }
      cells[col++] = ch;
    }
    out.push(Array.from(cells, (c) => c ?? ' ').join('').trimEnd());
  }
  return out.join('\n');
}

export function runInPty(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv; cols?: number; rows?: number }): PtyRun {
  const cp = spawn('python3', ['-c', PTY_PY, String(o.cols ?? 80), String(o.rows ?? 40), ...argv], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let done = false;
  const waiters: Array<{ re: RegExp; resolve(s: string): void; reject(e: Error): void }> = [];
  const clean = () => screenLines(output);
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(clean())) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(clean());
      }
    }
  };
  cp.stdout!.on('data', (d: Buffer) => {
    output += d.toString('utf8');
    check();
  });
  let err = '';
  cp.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => {
    cp.once('close', (code) => {
      done = true;
      check();
      for (const w of waiters.splice(0)) w.reject(new Error(`the command ended (${code}) before ${w.re} appeared:\n${clean()}${err}`));
      resolve(code ?? -1);
    });
  });
  return {
    get output() {
      return output;
    },
    get text() {
      return clean();
    },
    get done() {
      return done;
    },
    waitFor(re: RegExp) {
      return new Promise<string>((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        check();
        if (done) {
          const i = waiters.findIndex((w) => w.re === re);
          if (i >= 0) waiters.splice(i, 1)[0]!.reject(new Error(`the command ended before ${re} appeared:\n${clean()}${err}`));
        }
      });
    },
    exited,
  };
}
