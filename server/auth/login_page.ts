/**
 * The dashboard's sign-in form: one field for an API token, posted to `/login`, which answers
 * with the session cookie. No script, and nothing loaded from elsewhere.
 */

export const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " +
  "base-uri 'none'; frame-ancestors 'none'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function loginPage(options: { error?: string; required: boolean }): string {
  const notice = options.required
    ? ""
    : `<p class="note">This server has no API tokens and serves only this machine: no sign-in is
needed. <a href="/">Open the dashboard</a>.</p>`;
  const error = options.error
    ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>oxmon · sign in</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { display: grid; place-items: center; min-height: 100vh; margin: 0; }
  form { display: grid; gap: .75rem; width: min(22rem, 90vw); }
  h1 { font-size: 1.25rem; margin: 0; }
  input, button { font: inherit; padding: .5rem; }
  .error { color: #c62828; margin: 0; }
  .note { max-width: 22rem; }
</style>
</head>
<body>
<main>
${notice}
<form method="post" action="/login">
  <h1>oxmon</h1>
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  ${error}
  <button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}
