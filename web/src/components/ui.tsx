// Small building blocks shared by every screen.
import type { ReactNode } from "react";
import { ApiError, isMissingRoute } from "../api/client";
import { Link } from "../lib/router";

/** A screen: its heading, actions on the right, then its content. */
export function Page(props: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  back?: { href: string; label: string };
}) {
  return (
    <section className="page" aria-labelledby="page-title">
      {props.back && (
        <p className="back">
          <Link href={props.back.href}>← {props.back.label}</Link>
        </p>
      )}
      <header className="page-head">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            {props.title}
          </h1>
          {props.subtitle && <p className="muted">{props.subtitle}</p>}
        </div>
        {props.actions && <div className="actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** What an empty list says: what it is for and what to do. */
export function Empty(props: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <p className="empty-title">{props.title}</p>
      {props.children && <p className="muted">{props.children}</p>}
      {props.action}
    </div>
  );
}

/** An error from loading or saving, in words; a missing endpoint says so plainly. */
export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  if (isMissingRoute(error)) {
    return (
      <div className="note" role="status">
        This part of the gateway is not available in this version.
      </div>
    );
  }
  const e = error as Error;
  const code = e instanceof ApiError && e.status ? ` (${e.status} ${e.code})` : "";
  return (
    <div className="error-note" role="alert">
      <span>
        {e.message}
        {code && <span className="muted">{code}</span>}
      </span>
      {onRetry && (
        <button type="button" className="btn small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="spinner" role="status" aria-live="polite">
      <span className="dot" aria-hidden="true" />
      {label}
    </p>
  );
}

const STATUS_TONE: Record<string, string> = {
  ok: "good",
  completed: "good",
  succeeded: "good",
  success: "good",
  fired: "good",
  enabled: "good",
  running: "info",
  streaming: "info",
  pending: "wait",
  queued: "wait",
  scheduled: "wait",
  cooldown: "wait",
  failed: "bad",
  failing: "bad",
  error: "bad",
  blocked: "bad",
  cancelled: "muted",
  disabled: "muted",
  skipped: "muted",
};

/** A status word with a colour that matches its meaning (and the word itself, for colour-blind readers). */
export function Status({ value }: { value: string }) {
  return <span className={`badge tone-${STATUS_TONE[value] ?? "muted"}`}>{value.replace(/_/g, " ")}</span>;
}

export function Tags({ items }: { items: string[] | null | undefined }) {
  if (!items?.length) return <span className="muted">—</span>;
  return (
    <span className="tags">
      {items.map((t) => (
        <span className="tag" key={t}>
          {t}
        </span>
      ))}
    </span>
  );
}

/** An image from /uploads, or initials on a coloured square. */
export function Avatar({ url, name, size = 40 }: { url?: string | null; name: string; size?: number }) {
  if (url) return <img className="avatar" src={url} alt="" width={size} height={size} />;
  const initials = name
    .split(/\s+/)
    .map((w) => w[0])
    .join("")
    .slice(0, 2)
    .toUpperCase();
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) | 0;
  return (
    <span
      className="avatar initials"
      style={{ width: size, height: size, background: `hsl(${Math.abs(hash) % 360} 45% 45%)` }}
      aria-hidden="true"
    >
      {initials || "?"}
    </span>
  );
}

/** Tabs as links: each tab is a URL, so reload and back work. */
export function TabLinks({ tabs, current }: { tabs: { href: string; label: string; id: string }[]; current: string }) {
  return (
    <nav className="tabs" aria-label="Sections">
      {tabs.map((t) => (
        <Link
          key={t.id}
          href={t.href}
          className={t.id === current ? "tab active" : "tab"}
          aria-current={t.id === current ? "page" : undefined}
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}

/** Label and value pairs. */
export function Facts({ items }: { items: [ReactNode, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([k, v], i) => (
        <div key={i}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
