// A table that turns into labelled cards at phone width (CSS uses data-label).
import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ReactNode;
  /** Right-aligned numbers. */
  numeric?: boolean;
  className?: string;
}

export function DataTable<T>(props: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (r: T) => string | number;
  caption?: string;
  actions?: (r: T) => ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className="table">
        {props.caption && <caption className="sr-only">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
            {props.actions && (
              <th scope="col" className="actions-col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.key} data-label={c.label} className={[c.numeric ? "num" : "", c.className ?? ""].join(" ").trim() || undefined}>
                  {c.render(r)}
                </td>
              ))}
              {props.actions && <td className="row-actions">{props.actions(r)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Previous / next through a list page. */
export function Pager(props: { total: number; capped?: boolean; limit: number; offset: number; onOffset: (o: number) => void }) {
  if (props.total <= props.limit && props.offset === 0) return null;
  const from = props.total ? props.offset + 1 : 0;
  const to = Math.min(props.offset + props.limit, props.total);
  return (
    <nav className="pager" aria-label="Pages">
      <button
        type="button"
        className="btn small"
        disabled={props.offset === 0}
        onClick={() => props.onOffset(Math.max(0, props.offset - props.limit))}
      >
        Previous
      </button>
      <span className="muted">
        {from}–{to} of {props.capped ? `more than ${props.total - 1}` : props.total}
      </span>
      <button type="button" className="btn small" disabled={to >= props.total} onClick={() => props.onOffset(props.offset + props.limit)}>
        Next
      </button>
    </nav>
  );
}
