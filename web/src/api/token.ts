/** The bearer token, kept for the browser session (sessionStorage), and who wants to know. */

const KEY = "assetflow.token";
type Listener = (reason: string) => void;
const listeners = new Set<Listener>();

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token.trim());
  else sessionStorage.removeItem(KEY);
}

/** Called on every 401: the UI asks for a (new) token. */
export function tokenRejected(challenge: string): void {
  const reason = /error="invalid_token"/.test(challenge)
    ? "The token was refused (expired, or signed with another key)."
    : "This assetflow requires a token.";
  for (const listener of listeners) listener(reason);
}

export function onTokenRejected(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
