// The application shell: who is signed in, the navigation, and which screen
// the URL names. Screens load on demand (one chunk each).
import { lazy, Suspense, useEffect, useRef, useState, type ComponentType } from "react";
import { api, call, onUnauthorized } from "./api/client";
import type { Me } from "./api/models";
import { Feedback } from "./components/dialog";
import { ErrorNote, Spinner } from "./components/ui";
import { MeContext } from "./lib/me";
import { Link, match, navigate, useLocation } from "./lib/router";
import { Login } from "./screens/Login";

type Screen = ComponentType<{ params: Record<string, string> }>;
const screen = (load: () => Promise<{ default: Screen }>) => lazy(load);

const Dashboard = screen(() => import("./screens/Dashboard"));
const RequestLog = screen(() => import("./screens/RequestLog"));
const Chat = screen(() => import("./screens/Chat"));
const Sessions = screen(() => import("./screens/Sessions"));
const SessionDetail = screen(() => import("./screens/SessionDetail"));
const Projects = screen(() => import("./screens/Projects"));
const Project = screen(() => import("./screens/Project"));
const AgentDetail = screen(() => import("./screens/AgentDetail"));
const TaskDetail = screen(() => import("./screens/TaskDetail"));
const DocumentDetail = screen(() => import("./screens/DocumentDetail"));
const CodebaseDetail = screen(() => import("./screens/CodebaseDetail"));
const TriggerDetail = screen(() => import("./screens/TriggerDetail"));
const Providers = screen(() => import("./screens/Providers"));
const Models = screen(() => import("./screens/Models"));
const ApiKeys = screen(() => import("./screens/ApiKeys"));
const Users = screen(() => import("./screens/Users"));
const Settings = screen(() => import("./screens/Settings"));

const ROUTES: [string, Screen][] = [
  ["/", Dashboard],
  ["/logs", RequestLog],
  ["/chat", Chat],
  ["/sessions", Sessions],
  ["/sessions/:sid", SessionDetail],
  ["/projects", Projects],
  ["/projects/:pid", Project],
  ["/projects/:pid/:tab", Project],
  ["/projects/:pid/agents/:id", AgentDetail],
  ["/projects/:pid/tasks/:id", TaskDetail],
  ["/projects/:pid/documents/:id", DocumentDetail],
  ["/projects/:pid/codebases/:id", CodebaseDetail],
  ["/projects/:pid/triggers/:id", TriggerDetail],
  ["/providers", Providers],
  ["/models", Models],
  ["/keys", ApiKeys],
  ["/users", Users],
  ["/settings", Settings],
];

const NAV: { group: string; items: { href: string; label: string; admin?: boolean }[] }[] = [
  {
    group: "Overview",
    items: [
      { href: "/", label: "Dashboard" },
      { href: "/logs", label: "Request log" },
    ],
  },
  {
    group: "Work",
    items: [
      { href: "/projects", label: "Projects" },
      { href: "/chat", label: "Chat" },
      { href: "/sessions", label: "Sessions" },
    ],
  },
  {
    group: "Gateway",
    items: [
      { href: "/providers", label: "Providers", admin: true },
      { href: "/models", label: "Models" },
      { href: "/keys", label: "API keys" },
      { href: "/users", label: "Users" },
      { href: "/settings", label: "Settings", admin: true },
    ],
  },
];

function resolve(path: string): { Screen: Screen; params: Record<string, string>; key: string } | null {
  const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
  for (const [pattern, Screen] of ROUTES) {
    const params = match(pattern, clean);
    if (!params) continue;
    // A screen keeps its state across its own tabs; another object mounts it afresh.
    const { tab: _, ...identity } = params;
    return { Screen, params, key: `${pattern.replace("/:tab", "")}?${JSON.stringify(identity)}` };
  }
  return null;
}

function isActive(href: string, path: string) {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [bootError, setBootError] = useState<unknown>();
  const { path } = useLocation();

  useEffect(() => {
    onUnauthorized(() => setMe(null));
    call<Me>(api.GET("/api/v1/me"))
      .then(setMe)
      .catch((e) => {
        if ((e as { status?: number }).status === 401) setMe(null);
        else setBootError(e);
      });
  }, []);

  if (bootError) {
    return (
      <main className="boot">
        <ErrorNote error={bootError} onRetry={() => window.location.reload()} />
      </main>
    );
  }
  if (me === undefined) return <Spinner />;
  if (me === null) {
    return (
      <Login
        onLogin={(m) => {
          setMe(m);
          if (path === "/login") navigate("/", { replace: true });
        }}
      />
    );
  }
  return (
    <MeContext.Provider value={me}>
      <Feedback>
        <Shell me={me} path={path} onLogout={() => setMe(null)} />
      </Feedback>
    </MeContext.Provider>
  );
}

function Shell({ me, path, onLogout }: { me: Me; path: string; onLogout: () => void }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const first = useRef(true);
  const route = resolve(path === "/login" ? "/" : path);

  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    // After navigating, put keyboard and screen-reader focus on the new screen's heading.
    const t = window.setTimeout(() => document.getElementById("page-title")?.focus({ preventScroll: true }), 50);
    return () => window.clearTimeout(t);
  }, [path]);

  async function logout() {
    try {
      await call(api.POST("/api/v1/logout"));
    } finally {
      navigate("/", { replace: true });
      onLogout();
    }
  }

  return (
    <div className="app">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          SP Gateway
        </Link>
        <button
          type="button"
          className="btn ghost menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
      </header>
      <nav id="nav" className={menuOpen ? "nav open" : "nav"} aria-label="Main">
        <Link href="/" className="brand desktop-only">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          SP Gateway
        </Link>
        {NAV.map((g) => (
          <div className="nav-group" key={g.group}>
            <p className="nav-title">{g.group}</p>
            <ul>
              {g.items
                .filter((i) => !i.admin || me.role === "admin")
                .map((i) => (
                  <li key={i.href}>
                    <Link
                      href={i.href}
                      className={isActive(i.href, path) ? "active" : undefined}
                      aria-current={isActive(i.href, path) ? "page" : undefined}
                    >
                      {i.label}
                    </Link>
                  </li>
                ))}
            </ul>
          </div>
        ))}
        <div className="nav-user">
          <span>
            {me.username} <span className="muted">({me.role})</span>
          </span>
          <button type="button" className="btn small" onClick={logout}>
            Log out
          </button>
        </div>
      </nav>
      <main id="main" className="main">
        <Suspense fallback={<Spinner />}>
          {route ? (
            <route.Screen key={route.key} params={route.params} />
          ) : (
            <section className="page">
              <h1 id="page-title" tabIndex={-1}>
                Page not found
              </h1>
              <p>
                Nothing lives at <code>{path}</code>. <Link href="/">Go to the dashboard</Link>.
              </p>
            </section>
          )}
        </Suspense>
      </main>
    </div>
  );
}
