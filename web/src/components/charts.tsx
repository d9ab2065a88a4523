// Charts drawn as SVG: stacked bars over time and horizontal bar lists. No
// chart library: these two shapes are all the dashboard needs.
import { useEffect, useRef, useState, type ReactNode, type RefObject } from "react";
import { short } from "../lib/format";

export const PALETTE = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6"];
export const OTHER_COLOR = "#94a3b8";

function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const width = Math.floor(entries[0].contentRect.width);
      if (width > 0) setW(width);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

export interface Series {
  key: string;
  label: string;
  color: string;
}

export interface Bucket {
  t: Date;
  values: Record<string, number>;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Bars per time bucket, stacked by series; a table of the same numbers is available to screen readers. */
export function StackedBars(props: {
  title: string;
  buckets: Bucket[];
  series: Series[];
  format?: (n: number) => string;
  timeLabel: (d: Date) => string;
  height?: number;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const fmt = props.format ?? short;
  const height = props.height ?? 180;
  const bottom = 22;
  const plotH = height - bottom - 8;
  const totals = props.buckets.map((b) => props.series.reduce((s, x) => s + (b.values[x.key] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const ticks = [0, 0.5, 1].map((f) => ({ v: max * f, label: fmt(max * f) }));
  // Room for the longest tick label (10px font: about 6px a character).
  const left = Math.max(28, 10 + Math.max(...ticks.map((t) => t.label.length)) * 6);
  const plotW = Math.max(50, width - left - 8);
  const n = Math.max(1, props.buckets.length);
  const slot = plotW / n;
  const barW = Math.max(1, Math.min(28, slot * 0.7));
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 70))));
  const y = (v: number) => 8 + plotH - (v / max) * plotH;
  return (
    <figure className="chart" ref={ref}>
      <figcaption>{props.title}</figcaption>
      <svg width={width} height={height} aria-hidden="true">
        {ticks.map((t) => (
          <g key={t.v}>
            <line x1={left} x2={left + plotW} y1={y(t.v)} y2={y(t.v)} className="grid-line" />
            <text x={left - 6} y={y(t.v) + 4} textAnchor="end" className="axis">
              {t.label}
            </text>
          </g>
        ))}
        {props.buckets.map((b, i) => {
          let acc = 0;
          const x = left + i * slot + (slot - barW) / 2;
          return (
            <g key={b.t.getTime()}>
              {props.series.map((s) => {
                const v = b.values[s.key] ?? 0;
                if (!v) return null;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return (
                  <rect key={s.key} x={x} y={y1} width={barW} height={Math.max(1, y0 - y1)} fill={s.color}>
                    <title>{`${props.timeLabel(b.t)} · ${s.label}: ${fmt(v)}`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={height - 6} textAnchor="middle" className="axis">
                  {props.timeLabel(b.t)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <Legend series={props.series} />
      <table className="sr-only">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {props.series.map((x) => (
              <th scope="col" key={x.key}>
                {x.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.buckets
            .filter((_, i) => totals[i] > 0)
            .map((b) => (
              <tr key={b.t.getTime()}>
                <th scope="row">{props.timeLabel(b.t)}</th>
                {props.series.map((x) => (
                  <td key={x.key}>{fmt(b.values[x.key] ?? 0)}</td>
                ))}
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}

export function Legend({ series }: { series: Series[] }) {
  if (series.length < 2) return null;
  return (
    <ul className="legend">
      {series.map((s) => (
        <li key={s.key}>
          <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
          {s.label}
        </li>
      ))}
    </ul>
  );
}

/** Horizontal bars: one row per item, widths relative to the largest. */
export function BarList(props: {
  title: string;
  items: { key: string; label: ReactNode; value: number; color?: string; detail?: ReactNode }[];
  format?: (n: number) => string;
}) {
  const fmt = props.format ?? short;
  const max = Math.max(0, ...props.items.map((i) => i.value)) || 1;
  return (
    <figure className="barlist">
      <figcaption>{props.title}</figcaption>
      <ul>
        {props.items.map((i) => (
          <li key={i.key}>
            <div className="barlist-label">
              <span>{i.label}</span>
              <span className="num">{fmt(i.value)}</span>
            </div>
            <div className="barlist-track" aria-hidden="true">
              <div className="barlist-bar" style={{ width: `${(i.value / max) * 100}%`, background: i.color ?? PALETTE[0] }} />
            </div>
            {i.detail && <div className="muted small">{i.detail}</div>}
          </li>
        ))}
      </ul>
    </figure>
  );
}
