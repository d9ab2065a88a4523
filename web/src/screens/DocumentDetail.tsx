// A living document: its summary, understanding and content, edited in place
// (each save is a revision), and the revision history with line diffs.
import { useMemo, useState } from "react";
import { resources } from "../api/client";
import type { Document, Revision } from "../api/models";
import { documents } from "../api/work";
import { useToast } from "../components/dialog";
import { Form, type FieldSpec } from "../components/form";
import { ErrorNote, Page, Spinner } from "../components/ui";
import { diffLines, diffStat } from "../lib/diff";
import { dateTime } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";

const FIELDS: FieldSpec[] = [
  { name: "title", label: "Title", required: true },
  { name: "description", label: "Summary", kind: "textarea", rows: 2 },
  { name: "extended_description", label: "Understanding (constraints and objectives)", kind: "textarea", rows: 4 },
  { name: "content", label: "Content", kind: "textarea", rows: 14 },
];

/** A revision as text, so every field's changes show in one diff. */
function asText(r: Pick<Revision, "title" | "description" | "extended_description" | "content">): string {
  return [
    `# ${r.title}`,
    "",
    "## Summary",
    r.description ?? "",
    "",
    "## Understanding",
    r.extended_description ?? "",
    "",
    "## Content",
    r.content ?? "",
  ].join("\n");
}

export default function DocumentDetail({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const id = Number(params.id);
  const doc = useLoad(() => resources.get<Document>("document", id), [id]);
  const revs = useLoad(() => documents.revisions(id), [id, doc.data?.revision]);
  const [editing, setEditing] = useState(false);
  const toast = useToast();
  const d = doc.data;
  useTitle(d ? d.title : "Document");
  if (!d) {
    return (
      <section className="page">
        <ErrorNote error={doc.error} onRetry={doc.reload} />
        {!doc.error && <Spinner />}
      </section>
    );
  }
  return (
    <Page
      back={{ href: `/projects/${pid}/documents`, label: "Documents" }}
      title={d.title}
      subtitle={`Revision ${d.revision} · updated ${dateTime(d.updated_at ?? d.created_at)}`}
      actions={
        !editing && (
          <button type="button" className="btn primary" onClick={() => setEditing(true)}>
            Edit
          </button>
        )
      }
    >
      {editing ? (
        <section className="card">
          <Form
            fields={FIELDS}
            row={d as unknown as Record<string, unknown>}
            submitLabel="Save as a new revision"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              const updated = await resources.patch<Document>("document", id, body);
              doc.setData(() => updated);
              setEditing(false);
              toast(`Saved revision ${updated.revision}`);
            }}
          />
        </section>
      ) : (
        <div className="doc">
          <section className="card">
            <h2>Summary</h2>
            <p className="prewrap">{d.description || <span className="muted">No summary.</span>}</p>
            <h2>Understanding</h2>
            <p className="prewrap">{d.extended_description || <span className="muted">Not written yet.</span>}</p>
          </section>
          <section className="card">
            <h2>Content</h2>
            <div className="prewrap doc-content">{d.content || <span className="muted">Empty.</span>}</div>
          </section>
        </div>
      )}
      <section className="section">
        <h2>Revision history</h2>
        <ErrorNote error={revs.error} onRetry={revs.reload} />
        {/* Keyed by the latest revision: a new save starts the comparison over (latest against the one before). */}
        {revs.data && <History key={Math.max(0, ...revs.data.map((r) => r.revision))} documentId={id} revisions={revs.data} />}
      </section>
    </Page>
  );
}

function History({ documentId, revisions }: { documentId: number; revisions: Revision[] }) {
  const sorted = useMemo(() => [...revisions].sort((a, b) => b.revision - a.revision), [revisions]);
  const [to, setTo] = useState(sorted[0]?.revision ?? 0);
  const [from, setFrom] = useState(sorted[1]?.revision ?? sorted[0]?.revision ?? 0);
  // The list has no content: fetch the two revisions being compared.
  const pair = useLoad(
    () => Promise.all([documents.revision(documentId, from), documents.revision(documentId, to)]),
    [documentId, from, to],
  );
  if (!sorted.length) return <p className="muted">No revisions recorded.</p>;
  const author = (r: Revision) =>
    r.author ? `${r.author.name ?? `${r.author.type} ${r.author.id ?? ""}`}${r.author.type === "agent" ? " (agent)" : ""}` : "unknown";
  const lines = pair.data ? diffLines(asText(pair.data[0]), asText(pair.data[1])) : [];
  const stat = diffStat(lines);
  return (
    <div className="history">
      <ol className="revisions" aria-label="Revisions">
        {sorted.map((r) => (
          <li key={r.revision} className={r.revision === to ? "current" : undefined}>
            <button
              type="button"
              className="linklike"
              onClick={() => {
                setTo(r.revision);
                const prev = sorted.find((x) => x.revision < r.revision);
                setFrom(prev ? prev.revision : r.revision);
              }}
              aria-pressed={r.revision === to}
            >
              Revision {r.revision}
            </button>
            <span className="muted small block">
              {dateTime(r.created_at)} · {author(r)}
            </span>
            {r.reason && <span className="small block">{r.reason}</span>}
          </li>
        ))}
      </ol>
      <div className="diff-view">
        <div className="toolbar">
          <label>
            Compare{" "}
            <select value={from} onChange={(e) => setFrom(Number(e.target.value))} aria-label="Older revision">
              {sorted.map((r) => (
                <option key={r.revision} value={r.revision}>
                  revision {r.revision}
                </option>
              ))}
            </select>
          </label>
          <label>
            with{" "}
            <select value={to} onChange={(e) => setTo(Number(e.target.value))} aria-label="Newer revision">
              {sorted.map((r) => (
                <option key={r.revision} value={r.revision}>
                  revision {r.revision}
                </option>
              ))}
            </select>
          </label>
          {pair.data && (
            <span className="muted small">
              <span className="added">+{stat.added}</span> <span className="removed">−{stat.removed}</span>
            </span>
          )}
        </div>
        <ErrorNote error={pair.error} />
        {!pair.data && !pair.error && <Spinner />}
        {pair.data && (
          <pre className="diff" aria-label={`Changes from revision ${from} to ${to}`}>
            {from === to && <div className="muted">Choose two different revisions to see what changed.</div>}
            {lines.map((l, i) => (
              <div key={i} className={l.op === "+" ? "add" : l.op === "-" ? "del" : undefined}>
                <span aria-hidden="true">{l.op === "=" ? " " : l.op === "+" ? "+" : "−"} </span>
                <span className="sr-only">{l.op === "+" ? "added: " : l.op === "-" ? "removed: " : ""}</span>
                {l.text || " "}
              </div>
            ))}
          </pre>
        )}
      </div>
    </div>
  );
}
