// Sign in with a username and password (sets the HttpOnly session cookie).
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import type { Me } from "../api/models";
import { useTitle } from "../lib/hooks";

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  useTitle("Sign in");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await call(api.POST("/api/v1/login", { body: { username, password } }));
      onLogin(await call<Me>(api.GET("/api/v1/me")));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <h1 id="login-title">Sign in to SP Gateway</h1>
        </div>
        {error && (
          <div className="error-note" role="alert" id="login-error">
            {error}
          </div>
        )}
        <div className="field">
          <label htmlFor="username">Username</label>
          <input
            id="username"
            name="username"
            autoComplete="username"
            required
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-describedby={error ? "login-error" : undefined}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="btn primary block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          The first user is <code>admin</code>; its password was printed when the gateway first started (or set with{" "}
          <code>SPGW_ADMIN_PASSWORD</code>).
        </p>
      </form>
    </main>
  );
}
