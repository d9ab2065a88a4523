// Forms: fields described as data, values converted to what the API takes,
// and errors from the API shown next to the field they name.
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { ApiError } from "../api/client";

export type FieldKind =
  "text" | "textarea" | "number" | "bool" | "tags" | "json" | "select" | "secret" | "password" | "date" | "datetime" | "url" | "email";

export interface FieldSpec {
  name: string;
  label: string;
  kind?: FieldKind;
  required?: boolean;
  help?: ReactNode;
  placeholder?: string;
  options?: { value: string; label: string }[];
  rows?: number;
  /** Shown only when creating (e.g. the first password). */
  createOnly?: boolean;
  /** Shown only when editing. */
  editOnly?: boolean;
  /** Value when creating. */
  default?: unknown;
}

export type Values = Record<string, string | boolean>;
export type FieldErrors = Record<string, string>;

/** The field an API error names, reduced to the form's field (`models[2]` → `models`). */
export function fieldOf(e: unknown): string | undefined {
  if (!(e instanceof ApiError) || !e.field) return undefined;
  return e.field.split(/[[.]/)[0];
}

/** Splits an error into a message for one field, or one for the whole form. */
export function splitError(e: unknown, fields: string[]): { fields: FieldErrors; general?: string } {
  const f = fieldOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (f && fields.includes(f)) {
    // The API says "name: is required"; next to the field, the name is redundant.
    const prefix = `${(e as ApiError).field}: `;
    return { fields: { [f]: msg.startsWith(prefix) ? msg.slice(prefix.length) : msg } };
  }
  return { fields: {}, general: msg };
}

function pad(n: number) {
  return String(n).padStart(2, "0");
}

/** A stored value as the input shows it. */
export function toInput(kind: FieldKind, v: unknown): string | boolean {
  if (kind === "bool") return v === undefined || v === null ? false : Boolean(v);
  if (v === null || v === undefined) return "";
  switch (kind) {
    case "tags":
      return Array.isArray(v) ? v.join(", ") : String(v);
    case "json":
      return typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, null, 2);
    case "secret":
    case "password":
      return "";
    case "datetime": {
      const d = new Date(String(v));
      if (Number.isNaN(d.getTime())) return "";
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }
    default:
      return String(v);
  }
}

/** An input value as the API takes it; throws a message for bad input. */
export function fromInput(kind: FieldKind, v: string | boolean): unknown {
  if (kind === "bool") return Boolean(v);
  const s = String(v);
  switch (kind) {
    case "number": {
      if (s.trim() === "") return null;
      const n = Number(s);
      if (!Number.isFinite(n)) throw new Error("must be a number");
      return n;
    }
    case "tags":
      return s
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
    case "json":
      if (s.trim() === "") return null;
      try {
        return JSON.parse(s);
      } catch {
        throw new Error("is not valid JSON");
      }
    case "datetime":
      return s ? new Date(s).toISOString() : null;
    default:
      return s === "" ? null : s;
  }
}

/** Initial input values for a form. */
export function initialValues(fields: FieldSpec[], row?: Record<string, unknown>): Values {
  const out: Values = {};
  for (const f of fields) out[f.name] = toInput(f.kind ?? "text", row ? row[f.name] : f.default);
  return out;
}

/**
 * The body to send: every filled field when creating; only changed fields
 * when editing (secrets only when a new one was typed).
 */
export function bodyFrom(
  fields: FieldSpec[],
  values: Values,
  initial: Values,
  editing: boolean,
): { body: Record<string, unknown>; errors: FieldErrors } {
  const body: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const f of fields) {
    const kind = f.kind ?? "text";
    const v = values[f.name];
    if (v === undefined) continue;
    if ((kind === "secret" || kind === "password") && v === "") continue;
    if (editing && v === initial[f.name]) continue;
    if (!editing && v === "" && kind !== "bool") continue;
    try {
      body[f.name] = fromInput(kind, v);
    } catch (e) {
      errors[f.name] = (e as Error).message;
    }
  }
  return { body, errors };
}

/** One labelled control with its hint and its error. */
export function Field(props: {
  spec: FieldSpec;
  value: string | boolean;
  error?: string;
  onChange: (v: string | boolean) => void;
  editing?: boolean;
  maskedHint?: string;
}) {
  const id = useId();
  const { spec, value, error } = props;
  const kind = spec.kind ?? "text";
  const describedBy = [spec.help ? `${id}-hint` : "", error ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: spec.name,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
  };
  const required = spec.required && !(props.editing && (kind === "secret" || kind === "password"));
  let control: ReactNode;
  switch (kind) {
    case "bool":
      control = (
        <label className="check" htmlFor={id}>
          <input type="checkbox" {...common} checked={Boolean(value)} onChange={(e) => props.onChange(e.target.checked)} />
          <span>{spec.label}</span>
        </label>
      );
      break;
    case "textarea":
    case "json":
      control = (
        <textarea
          {...common}
          rows={spec.rows ?? (kind === "json" ? 4 : 3)}
          value={String(value)}
          required={required}
          placeholder={spec.placeholder}
          spellCheck={kind === "json" ? false : undefined}
          className={kind === "json" ? "mono" : undefined}
          onChange={(e) => props.onChange(e.target.value)}
        />
      );
      break;
    case "select":
      control = (
        <select {...common} value={String(value)} required={required} onChange={(e) => props.onChange(e.target.value)}>
          {!required && <option value="">—</option>}
          {required && value === "" && <option value="">Choose…</option>}
          {spec.options?.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    default: {
      const type =
        kind === "secret" || kind === "password" ? "password" : kind === "datetime" ? "datetime-local" : kind === "tags" ? "text" : kind;
      control = (
        <input
          {...common}
          type={type}
          value={String(value)}
          required={required}
          autoComplete={kind === "secret" || kind === "password" ? "new-password" : "off"}
          placeholder={kind === "secret" && props.editing ? `${props.maskedHint ?? "set"}: leave empty to keep` : spec.placeholder}
          onChange={(e) => props.onChange(e.target.value)}
        />
      );
    }
  }
  return (
    <div className={`field${kind === "textarea" || kind === "json" ? " full" : ""}`}>
      {kind !== "bool" && (
        <label htmlFor={id}>
          {spec.label}
          {required && (
            <span className="req" aria-hidden="true">
              {" "}
              *
            </span>
          )}
        </label>
      )}
      {control}
      {spec.help && (
        <p className="hint" id={`${id}-hint`}>
          {spec.help}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <div className="error-note" role="alert">
      {message}
    </div>
  );
}

/** A form of described fields. `onSubmit` gets the API body; its errors land next to their field. */
export function Form(props: {
  fields: FieldSpec[];
  row?: Record<string, unknown>;
  submitLabel: string;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
  /** Extra controls; as a function they receive the errors of `extraFields`. */
  children?: ReactNode | ((errors: FieldErrors) => ReactNode);
  /** Names of fields the children render, so their API errors land there too. */
  extraFields?: string[];
}) {
  const editing = !!props.row;
  const fields = props.fields.filter((f) => (editing ? !f.createOnly : !f.editOnly));
  const [initial] = useState(() => initialValues(fields, props.row));
  const [values, setValues] = useState<Values>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [general, setGeneral] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { body, errors: local } = bodyFrom(fields, values, initial, editing);
    setErrors(local);
    setGeneral(undefined);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      await props.onSubmit(body);
    } catch (err) {
      const split = splitError(err, [...fields.map((f) => f.name), ...(props.extraFields ?? [])]);
      setErrors(split.fields);
      setGeneral(split.general);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate={false}>
      <FormError message={general} />
      <div className="form-grid">
        {fields.map((f) => (
          <Field
            key={f.name}
            spec={f}
            value={values[f.name] ?? ""}
            error={errors[f.name]}
            editing={editing}
            maskedHint={editing && props.row ? String(props.row[f.name] ?? "") : undefined}
            onChange={(v) => setValues((s) => ({ ...s, [f.name]: v }))}
          />
        ))}
      </div>
      {typeof props.children === "function" ? props.children(errors) : props.children}
      <div className="form-actions">
        {props.onCancel && (
          <button type="button" className="btn" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? "Saving…" : props.submitLabel}
        </button>
      </div>
    </form>
  );
}
