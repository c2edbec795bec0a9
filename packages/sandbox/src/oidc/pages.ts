/**
 * The sandbox provider's HTML: plain pages a real browser (or a test driving
 * Chromium) can complete. No external resources — nothing here reaches the
 * internet.
 */
const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28em;margin:3em auto;padding:0 1em}' +
  'input,button{font-size:1.1em;padding:.4em;width:100%;box-sizing:border-box;margin:.3em 0}' +
  'code{font-size:1.5em}.error{color:#b00}';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

/** Login and consent in one step: one e-mail field, one button. */
export function loginPage(uid: string, clientId: string, error?: string): string {
  return page(
    'Sign in to the Sigstore sandbox',
    (error ? `<p class="error">${escapeHtml(error)}</p>` : '') +
      `<p><strong>${escapeHtml(clientId)}</strong> asks for your e-mail address (scopes openid, email).</p>` +
      `<form method="post" action="/interaction/${encodeURIComponent(uid)}/login" autocomplete="off">` +
      `<label for="email">E-mail</label>` +
      `<input id="email" name="email" type="email" required autofocus placeholder="you@example.test">` +
      `<button type="submit" id="submit">Sign in</button></form>`,
  );
}

/** RFC 8628 §3.3: where the user types the code shown on the device. */
export function userCodeInputPage(form: string, err?: { name?: string; userCode?: unknown }): string {
  const msg = !err
    ? '<p>Enter the code shown in your terminal.</p>'
    : err.userCode || err.name === 'NoCodeError'
      ? '<p class="error">That code is not valid. Try again.</p>'
      : '<p class="error">The request could not be processed.</p>';
  return page('Device sign-in', `${msg}${form}<button type="submit" id="submit" form="op.deviceInputForm">Continue</button>`);
}

export function userCodeConfirmPage(form: string, clientId: string, userCode: string): string {
  return page(
    'Confirm device',
    `<p><strong>${escapeHtml(clientId)}</strong> on your device shows the code <code>${escapeHtml(userCode)}</code>.</p>` +
      `<p>Continue only if your terminal shows the same code.</p>${form}` +
      `<button type="submit" id="submit" form="op.deviceConfirmForm">Continue</button>` +
      `<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
  );
}

export function deviceSuccessPage(): string {
  return page('Signed in', '<p id="done">Your device is signed in. You can close this window.</p>');
}

export function errorPage(error: string, description?: string): string {
  return page('Sign-in error', `<p class="error">${escapeHtml(error)}${description ? `: ${escapeHtml(description)}` : ''}</p>`);
}
