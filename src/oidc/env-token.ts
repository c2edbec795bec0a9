/**
 * The identity token handed over in the environment (GITSEAL_ID_TOKEN, else SIGSTORE_ID_TOKEN;
 * GitLab CI's `id_tokens:` lands there too): which variable holds it, and what to tell a person
 * whose token there has expired. A token in a variable outlives nothing — CI tokens last minutes —
 * so "the identity token expired" alone leaves them guessing where it came from.
 */
import { GitsealError } from '../errors.js';

export const ENV_TOKEN_VARIABLES = ['GITSEAL_ID_TOKEN', 'SIGSTORE_ID_TOKEN'] as const;

/** The variable whose token gitseal uses, and the token (trimmed); undefined when none is set. */
export function envTokenSource(env: NodeJS.ProcessEnv): { variable: (typeof ENV_TOKEN_VARIABLES)[number]; raw: string } | undefined {
  for (const variable of ENV_TOKEN_VARIABLES) {
    const raw = (env[variable] ?? '').trim();
    if (raw) return { variable, raw };
  }
  return undefined;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** What to do about an expired token in `variable`. */
export function expiredEnvTokenAdvice(variable: string, env: NodeJS.ProcessEnv): string {
  if (env.GITLAB_CI === 'true') return `GitLab CI's id_tokens last only as long as the job's token: sign earlier in the job, or re-run it`;
  if (env.CI) return `CI tokens are short-lived: request the token right before signing, or let gitseal get the CI's own identity by unsetting ${variable}`;
  return `put a fresh token in ${variable}, or unset ${variable} to log in with the browser instead`;
}

/** The error for an expired environment token: names the variable and says what to do. */
export function expiredEnvTokenError(variable: string, expiresAt: Date, now: number, env: NodeJS.ProcessEnv): GitsealError {
  return new GitsealError(
    'BAD_TOKEN',
    `the identity token in ${variable} expired at ${expiresAt.toISOString()} (${ago(now - expiresAt.getTime())}): ${expiredEnvTokenAdvice(variable, env)}`,
  );
}
