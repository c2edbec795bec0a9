/**
 * GitHub Actions ambient token: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…
 * with `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer
 * `{"value": "<jwt>"}` (docs.github.com, "Configuring OpenID Connect in cloud
 * providers"; the job needs `permissions: id-token: write`).
 */
import { GitsealError } from '../errors.js';
import { limitedFetch } from './client.js';
import { redactTokens } from './jwt.js';

/** The answer is `{"value": "<jwt>"}`; tokens are at most 64 KiB (docs/security.md, size limits). */
const MAX_ANSWER_BYTES = 128 * 1024;

const ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 10_000;

export function githubActionsApplies(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

export async function githubActionsToken(
  env: NodeJS.ProcessEnv,
  audience: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<string> {
  const base = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!base || !bearer) {
    throw new GitsealError(
      'NO_TOKEN',
      'GitHub Actions gives no identity token to this job: add "permissions: id-token: write" to the workflow',
    );
  }
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new GitsealError('CONFIG', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  url.searchParams.set('audience', audience);

  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(500 * 2 ** (attempt - 2));
    let res: Response;
    try {
      // Bounded in size and (the signal covers the body) in time: an endless or dripping answer
      // is an error, not memory or a hang.
      res = await limitedFetch(
        url.href,
        { headers: { authorization: `bearer ${bearer}`, accept: 'application/json; api-version=2.0' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
        MAX_ANSWER_BYTES,
        'the GitHub Actions token service\'s answer',
      );
    } catch (e) {
      if (e instanceof GitsealError) throw e;
      last = e instanceof Error ? e.message : String(e);
      continue;
    }
    // 4xx other than 429 will not get better by asking again.
    if (!res.ok) {
      last = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
      continue;
    }
    let value: unknown;
    try {
      value = ((await res.json()) as { value?: unknown }).value;
    } catch {
      value = undefined;
    }
    if (typeof value !== 'string' || value === '') {
      throw new GitsealError('OIDC', 'the GitHub Actions token service answered without a token');
    }
    return value;
  }
  throw new GitsealError(
    'OIDC',
    redactTokens(`cannot get an identity token from GitHub Actions (${url.host}): ${last}`),
  );
}
