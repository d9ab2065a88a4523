// An agent's models in priority order: drag to reorder, or use the buttons
// (and arrow keys on the handle) from the keyboard. The first is tried first.
import { useId, useState, type DragEvent, type KeyboardEvent } from "react";
import type { AgentModel, Model } from "../api/models";

const keyOf = (m: AgentModel) => `${m.provider}/${m.model_code}`;

export function ModelOrder(props: { value: AgentModel[]; models: Model[]; onChange: (v: AgentModel[]) => void; error?: string }) {
  const id = useId();
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const [announce, setAnnounce] = useState("");
  const [pick, setPick] = useState("");
  const { value } = props;
  const label = (m: AgentModel) => {
    const found = props.models.find((x) => x.provider === m.provider && x.model_code === m.model_code);
    return found?.name ? `${found.name} (${keyOf(m)})` : keyOf(m);
  };

  function move(from: number, to: number) {
    if (to < 0 || to >= value.length || from === to) return;
    const next = [...value];
    const [m] = next.splice(from, 1);
    next.splice(to, 0, m);
    props.onChange(next);
    setAnnounce(`${label(m)} moved to position ${to + 1} of ${next.length}`);
  }

  function onKey(e: KeyboardEvent, i: number) {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      const to = e.key === "ArrowUp" ? i - 1 : i + 1;
      move(i, to);
      // Keep focus on the moved item's handle.
      window.setTimeout(() => document.getElementById(`${id}-h-${to}`)?.focus(), 0);
    }
  }

  function drop(e: DragEvent, i: number) {
    e.preventDefault();
    if (dragging !== null) move(dragging, i);
    setDragging(null);
    setOver(null);
  }

  const available = props.models.filter((m) => m.enabled && !value.some((v) => v.provider === m.provider && v.model_code === m.model_code));
  return (
    <fieldset className="field full model-order" aria-describedby={`${id}-help${props.error ? ` ${id}-err` : ""}`}>
      <legend>Models, in priority order</legend>
      <p className="hint" id={`${id}-help`}>
        The first model answers; if it fails (error, timeout, rate limit) the next is tried. Drag to reorder, or focus a handle and press ↑
        / ↓.
      </p>
      {value.length === 0 && <p className="muted">No model yet: add at least one below.</p>}
      <ol className="order-list">
        {value.map((m, i) => (
          <li
            key={keyOf(m)}
            className={[dragging === i ? "dragging" : "", over === i && dragging !== i ? "over" : ""].join(" ").trim() || undefined}
            draggable
            onDragStart={(e) => {
              setDragging(i);
              e.dataTransfer.effectAllowed = "move";
              e.dataTransfer.setData("text/plain", keyOf(m));
            }}
            onDragOver={(e) => {
              e.preventDefault();
              setOver(i);
            }}
            onDragLeave={() => setOver((o) => (o === i ? null : o))}
            onDrop={(e) => drop(e, i)}
            onDragEnd={() => {
              setDragging(null);
              setOver(null);
            }}
          >
            <button
              type="button"
              id={`${id}-h-${i}`}
              className="handle"
              aria-label={`Reorder ${label(m)}, position ${i + 1}`}
              onKeyDown={(e) => onKey(e, i)}
            >
              ⠿
            </button>
            <span className="order-pos">{i + 1}.</span>
            <span className="order-label">{label(m)}</span>
            <span className="order-actions">
              <button
                type="button"
                className="btn small ghost"
                disabled={i === 0}
                onClick={() => move(i, i - 1)}
                aria-label={`Move ${label(m)} up`}
              >
                ↑
              </button>
              <button
                type="button"
                className="btn small ghost"
                disabled={i === value.length - 1}
                onClick={() => move(i, i + 1)}
                aria-label={`Move ${label(m)} down`}
              >
                ↓
              </button>
              <button
                type="button"
                className="btn small ghost danger-text"
                onClick={() => props.onChange(value.filter((_, j) => j !== i))}
                aria-label={`Remove ${label(m)}`}
              >
                Remove
              </button>
            </span>
          </li>
        ))}
      </ol>
      <div className="inline-form">
        <label className="sr-only" htmlFor={`${id}-add`}>
          Model to add
        </label>
        <select id={`${id}-add`} value={pick} onChange={(e) => setPick(e.target.value)}>
          <option value="">Choose a model to add…</option>
          {available.map((m) => (
            <option key={m.id} value={`${m.provider}/${m.model_code}`}>
              {m.name ? `${m.name} (${m.provider})` : `${m.provider}/${m.model_code}`}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn small"
          disabled={!pick}
          onClick={() => {
            const i = pick.indexOf("/");
            props.onChange([...value, { provider: pick.slice(0, i), model_code: pick.slice(i + 1) }]);
            setPick("");
          }}
        >
          Add model
        </button>
      </div>
      {props.error && (
        <p className="field-error" id={`${id}-err`} role="alert">
          {props.error}
        </p>
      )}
      <p className="sr-only" aria-live="polite">
        {announce}
      </p>
    </fieldset>
  );
}
