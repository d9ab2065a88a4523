// Choosing when a task runs, with its next runs previewed in the chosen time zone.
import { useId, useMemo, useState } from "react";
import type { Schedule } from "../api/models";
import { formatIn, localZone, preview, type ScheduleKind } from "../lib/schedule";

const UNITS = [
  { value: 1, label: "seconds" },
  { value: 60, label: "minutes" },
  { value: 3600, label: "hours" },
  { value: 86400, label: "days" },
];

function kindOf(s: Schedule | null): ScheduleKind {
  if (!s) return "none";
  if (s.at !== undefined) return "at";
  if (s.cron !== undefined) return "cron";
  if (s.every_seconds !== undefined) return "every";
  return "none";
}

function zones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf: (k: string) => string[] }).supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

export function ScheduleEditor(props: { value: Schedule | null; onChange: (s: Schedule | null) => void; error?: string }) {
  const id = useId();
  const kind = kindOf(props.value);
  const [cron, setCron] = useState(props.value?.cron ?? "0 9 * * 1-5");
  const [tz, setTz] = useState(props.value?.timezone ?? localZone());
  const [at, setAt] = useState("");
  const [every, setEvery] = useState(1);
  const [unit, setUnit] = useState(3600);
  const p = useMemo(() => preview(props.value), [props.value]);
  const zoneList = useMemo(zones, []);

  function choose(k: ScheduleKind) {
    if (k === "none") props.onChange(null);
    if (k === "at") props.onChange({ at: at ? new Date(at).toISOString() : "" });
    if (k === "cron") props.onChange({ cron, timezone: tz });
    if (k === "every") props.onChange({ every_seconds: every * unit });
  }

  const options: [ScheduleKind, string][] = [
    ["none", "As soon as an agent is free"],
    ["at", "Once, at a time"],
    ["cron", "Repeat on a cron pattern"],
    ["every", "Repeat at an interval"],
  ];
  return (
    <fieldset className="field full schedule" aria-describedby={`${id}-preview`}>
      <legend>When</legend>
      <div className="radio-row">
        {options.map(([k, label]) => (
          <label key={k} className="check">
            <input type="radio" name={`${id}-kind`} checked={kind === k} onChange={() => choose(k)} />
            <span>{label}</span>
          </label>
        ))}
      </div>
      {kind === "at" && (
        <div className="inline-form">
          <label htmlFor={`${id}-at`}>Run at</label>
          <input
            id={`${id}-at`}
            type="datetime-local"
            value={at}
            required
            onChange={(e) => {
              setAt(e.target.value);
              props.onChange({ at: e.target.value ? new Date(e.target.value).toISOString() : "" });
            }}
          />
          <span className="muted small">your time ({localZone()})</span>
        </div>
      )}
      {kind === "cron" && (
        <div className="inline-form wrap">
          <label htmlFor={`${id}-cron`}>Pattern</label>
          <input
            id={`${id}-cron`}
            className="mono"
            value={cron}
            size={16}
            onChange={(e) => {
              setCron(e.target.value);
              props.onChange({ cron: e.target.value, timezone: tz });
            }}
            aria-describedby={`${id}-cron-help`}
          />
          <label htmlFor={`${id}-tz`}>Time zone</label>
          <input
            id={`${id}-tz`}
            list={`${id}-zones`}
            value={tz}
            size={18}
            onChange={(e) => {
              setTz(e.target.value);
              props.onChange({ cron, timezone: e.target.value });
            }}
          />
          <datalist id={`${id}-zones`}>
            {zoneList.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <p className="hint" id={`${id}-cron-help`}>
            minute hour day-of-month month day-of-week, e.g. <code>0 9 * * 1-5</code> (weekdays at 09:00) or <code>*/15 * * * *</code>.
          </p>
        </div>
      )}
      {kind === "every" && (
        <div className="inline-form">
          <label htmlFor={`${id}-every`}>Every</label>
          <input
            id={`${id}-every`}
            type="number"
            min={1}
            value={every}
            onChange={(e) => {
              const n = Number(e.target.value);
              setEvery(n);
              props.onChange({ every_seconds: n * unit });
            }}
          />
          <select
            aria-label="Unit"
            value={unit}
            onChange={(e) => {
              const u = Number(e.target.value);
              setUnit(u);
              props.onChange({ every_seconds: every * u });
            }}
          >
            {UNITS.map((u) => (
              <option key={u.value} value={u.value}>
                {u.label}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="preview" id={`${id}-preview`} aria-live="polite">
        {p.error ? (
          <p className="field-error">{p.error}</p>
        ) : (
          <>
            <p>
              <strong>{p.summary}</strong>
            </p>
            {p.next.length > 0 && (
              <>
                <p className="muted small">Next runs:</p>
                <ol className="next-runs">
                  {p.next.map((d) => (
                    <li key={d.getTime()}>{formatIn(d, kind === "cron" ? tz : undefined)}</li>
                  ))}
                </ol>
              </>
            )}
          </>
        )}
      </div>
      {props.error && (
        <p className="field-error" role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}
