import { describe, expect, it } from 'vitest';
import { openerArgv, splitCommand } from '../../src/oidc/opener.js';
import { checkIdTokenClaims, redactTokens } from '../../src/oidc/jwt.js';
import { parseRedirect } from '../../src/oidc/browser-flow.js';
import { hasBrowser } from '../../src/oidc/terminal.js';
import { isLoopbackHttp, tokenRefusal } from '../../src/oidc/client.js';
import { GitsealError } from '../../src/errors.js';

describe('urlOpener templates', () => {
  it('splits like a shell would, without running one', () => {
    expect(splitCommand(`firefox --new-window {{.URL}}`)).toEqual(['firefox', '--new-window', '{{.URL}}']);
    expect(splitCommand(`"/opt/My Browser/run" -a 'x y' b\\ c ""`)).toEqual(['/opt/My Browser/run', '-a', 'x y', 'b c', '']);
    expect(() => splitCommand(`open "unterminated`)).toThrow(GitsealError);
  });

  it('substitutes {{.URL}} or appends the URL, else uses the platform opener', () => {
    const url = 'http://127.0.0.1:1/auth?a=1&b=$(x)';
    expect(openerArgv(url, 'browser --url={{.URL}}')).toEqual(['browser', `--url=${url}`]);
    expect(openerArgv(url, 'browser -x')).toEqual(['browser', '-x', url]);
    expect(openerArgv(url, undefined, 'linux')).toEqual(['xdg-open', url]);
    expect(openerArgv(url, undefined, 'darwin')).toEqual(['open', url]);
    expect(openerArgv(url, undefined, 'win32')).toEqual(['rundll32', 'url.dll,FileProtocolHandler', url]);
    expect(() => openerArgv(url, '   ')).toThrow(/urlOpener is empty/);
  });
});

describe('browser or device', () => {
  it('picks the browser only where one can be shown', () => {
    expect(hasBrowser({}, undefined, 'linux')).toBe(false);
    expect(hasBrowser({ DISPLAY: ':0' }, undefined, 'linux')).toBe(true);
    expect(hasBrowser({ WAYLAND_DISPLAY: 'wayland-0' }, undefined, 'linux')).toBe(true);
    expect(hasBrowser({}, 'my-opener {{.URL}}', 'linux')).toBe(true);
    expect(hasBrowser({}, undefined, 'darwin')).toBe(true);
    expect(hasBrowser({ SSH_CONNECTION: '1 2 3 4' }, undefined, 'darwin')).toBe(false);
  });
});

describe('redirect URL', () => {
  it('defaults to gitsign\'s localhost:0/auth/callback and accepts only loopback http', () => {
    expect(parseRedirect(undefined)).toEqual({ host: 'localhost', port: 0, path: '/auth/callback' });
    expect(parseRedirect('http://127.0.0.1:8057/cb')).toEqual({ host: '127.0.0.1', port: 8057, path: '/cb' });
    expect(() => parseRedirect('http://example.com/auth/callback')).toThrow(/redirectURL must be/);
    expect(() => parseRedirect('https://localhost/auth/callback')).toThrow(/redirectURL must be/);
  });

  it('allows plain http only for loopback issuers', () => {
    expect(isLoopbackHttp(new URL('http://127.0.0.1:5556/auth'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://oauth2.example/auth'))).toBe(false);
    expect(isLoopbackHttp(new URL('https://127.0.0.1/'))).toBe(false);
  });
});

describe('ID token claim checks (OIDC Core §3.1.3.7)', () => {
  const now = 1_700_000_000_000;
  const good = { iss: 'https://issuer.example', aud: 'sigstore', sub: 'x', exp: now / 1000 + 300, iat: now / 1000, nonce: 'n1' };
  const want = { issuer: 'https://issuer.example', audience: 'sigstore', nonce: 'n1', now };
  const refused = (claims: Record<string, unknown>, w = want) => {
    try {
      checkIdTokenClaims(claims, w, 'test');
      return 'accepted';
    } catch (e) {
      return (e as GitsealError).message.replace('the identity token from test was refused: ', '');
    }
  };
  it('accepts a good token, including aud as an array', () => {
    expect(refused(good)).toBe('accepted');
    expect(refused({ ...good, aud: ['other', 'sigstore'] })).toBe('accepted');
  });
  it('refuses each wrong claim with its own reason', () => {
    expect(refused({ ...good, iss: 'https://evil.example' })).toBe('it was issued by https://evil.example, not https://issuer.example');
    expect(refused({ ...good, aud: 'other' })).toBe('its audience is not sigstore');
    expect(refused({ ...good, exp: now / 1000 - 61 })).toBe('it has expired');
    expect(refused({ ...good, exp: undefined })).toBe('it has no expiry');
    expect(refused({ ...good, iat: now / 1000 + 3600 })).toBe('it was issued in the future');
    expect(refused({ ...good, nonce: 'n2' })).toBe('its nonce does not match this login');
    expect(refused({ ...good, nonce: undefined })).toBe('its nonce does not match this login');
    expect(refused({ ...good, sub: '' })).toBe('it has no subject');
  });
  it('names a hostile issuer claim without coercing or printing it raw', () => {
    // An object with a null prototype has no toString: String() threw a TypeError (found by the fuzz test).
    expect(refused({ ...good, iss: Object.assign(Object.create(null), { toString: false }) })).toBe(
      'it was issued by a non-string issuer (object), not https://issuer.example',
    );
    expect(refused({ ...good, iss: 'https://evil\x1b[2J.example' })).toBe('it was issued by https://evil\\u001b[2J.example, not https://issuer.example');
    expect(refused({ ...good, iss: undefined })).toBe('it was issued by no issuer, not https://issuer.example');
  });
});

describe('redaction', () => {
  it('removes anything shaped like a JWT from messages', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(redactTokens(`bad token ${jwt} here`)).toBe('bad token [token redacted] here');
  });
  it('names the failed token check in words', () => {
    const e = (msg: string, cause: string) => Object.assign(new Error(msg), { cause: new Error(cause) });
    expect(tokenRefusal(e('invalid response encountered', 'JWT signature verification failed'))).toMatch(/signature does not verify/);
    expect(tokenRefusal(e('x', 'unexpected JWT "exp" (expiration time) claim value'))).toBe('it has expired');
    expect(tokenRefusal(new Error('fetch failed'))).toBeUndefined();
  });
});
