// The dashboard: requests, tokens, cost and errors over time, by provider,
// model, project or API key, from GET /api/v1/stats.
import { api, call } from "../api/client";
import type { Stats, Sums } from "../api/models";
import { BarList, OTHER_COLOR, PALETTE, StackedBars, type Bucket, type Series } from "../components/charts";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { ms, num, pct, short, usd, usdShort } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, setQuery, useLocation } from "../lib/router";

const RANGES: Record<string, { label: string; hours: number; bucket: "hour" | "day" }> = {
  "24h": { label: "Last 24 hours", hours: 24, bucket: "hour" },
  "7d": { label: "Last 7 days", hours: 24 * 7, bucket: "day" },
  "30d": { label: "Last 30 days", hours: 24 * 30, bucket: "day" },
};

const GROUPS: Record<string, string> = { provider: "Provider", model: "Model", project: "Project", api_key: "API key" };
const TOP = 6;

type Metric = keyof Pick<Sums, "requests" | "errors" | "cost_usd"> | "tokens";

function metricOf(s: Sums, m: Metric): number {
  return m === "tokens" ? s.input_tokens + s.output_tokens : s[m];
}

/** Every bucket of the range (the API only returns non-empty ones), aligned as the API aligns them. */
function bucketStarts(from: number, to: number, bucketMs: number, offsetMs: number): number[] {
  const align = (t: number) => t + offsetMs - ((((t + offsetMs) % bucketMs) + bucketMs) % bucketMs) - offsetMs;
  const out: number[] = [];
  for (let t = align(from); t < to; t += bucketMs) out.push(t);
  return out;
}

export default function Dashboard() {
  useTitle("Dashboard");
  const { query } = useLocation();
  const range = RANGES[query.get("range") ?? ""] ? (query.get("range") as string) : "24h";
  const group = GROUPS[query.get("group") ?? ""] ? (query.get("group") as string) : "provider";
  const r = RANGES[range];
  const offsetMin = -new Date().getTimezoneOffset();

  const stats = useLoad(
    async () => {
      const to = new Date();
      // Round to the minute, so reloads within a minute ask the same question.
      to.setSeconds(0, 0);
      to.setMinutes(to.getMinutes() + 1);
      const from = new Date(to.getTime() - r.hours * 3600_000);
      const query = { from: from.toISOString(), to: to.toISOString(), bucket: r.bucket, group_by: group, tz_offset_minutes: offsetMin };
      return call<Stats>(api.GET("/api/v1/stats", { params: { query } }));
    },
    [range, group],
    30_000,
  );

  const s = stats.data;
  const top = s ? s.groups.slice(0, TOP) : [];
  const series: Series[] = top.map((g, i) => ({ key: g.key, label: g.label, color: PALETTE[i % PALETTE.length] }));
  if (s && s.groups.length > TOP) series.push({ key: "__other", label: "Other", color: OTHER_COLOR });
  const topKeys = new Set(top.map((g) => g.key));
  const labelOf = new Map(s?.groups.map((g) => [g.key, g.label]) ?? []);

  function buckets(metric: Metric): Bucket[] {
    if (!s) return [];
    const bucketMs = s.bucket_seconds * 1000;
    const byT = new Map<number, Record<string, number>>();
    for (const t of bucketStarts(new Date(s.from).getTime(), new Date(s.to).getTime(), bucketMs, offsetMin * 60_000)) byT.set(t, {});
    for (const p of s.series) {
      const t = new Date(p.t).getTime();
      const values = byT.get(t) ?? {};
      const key = topKeys.has(p.key) ? p.key : "__other";
      values[key] = (values[key] ?? 0) + metricOf(p, metric);
      byT.set(t, values);
    }
    return [...byT.entries()].sort((a, b) => a[0] - b[0]).map(([t, values]) => ({ t: new Date(t), values }));
  }

  function tokenBuckets(): Bucket[] {
    if (!s) return [];
    const byT = new Map<number, Record<string, number>>();
    for (const t of bucketStarts(new Date(s.from).getTime(), new Date(s.to).getTime(), s.bucket_seconds * 1000, offsetMin * 60_000))
      byT.set(t, {});
    for (const p of s.series) {
      const t = new Date(p.t).getTime();
      const v = byT.get(t) ?? {};
      v.input = (v.input ?? 0) + p.input_tokens;
      v.output = (v.output ?? 0) + p.output_tokens;
      byT.set(t, v);
    }
    return [...byT.entries()].sort((a, b) => a[0] - b[0]).map(([t, values]) => ({ t: new Date(t), values }));
  }

  const timeLabel = (d: Date) =>
    r.bucket === "hour"
      ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleDateString(undefined, { month: "short", day: "numeric" });

  const controls = (
    <div className="toolbar" role="group" aria-label="Dashboard options">
      <label>
        <span className="sr-only">Period</span>
        <select value={range} onChange={(e) => setQuery({ range: e.target.value })} aria-label="Period">
          {Object.entries(RANGES).map(([k, v]) => (
            <option key={k} value={k}>
              {v.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">Group by</span>
        <select value={group} onChange={(e) => setQuery({ group: e.target.value })} aria-label="Group by">
          {Object.entries(GROUPS).map(([k, v]) => (
            <option key={k} value={k}>
              By {v.toLowerCase()}
            </option>
          ))}
        </select>
      </label>
    </div>
  );

  return (
    <Page title="Dashboard" subtitle={r.label} actions={controls}>
      <ErrorNote error={stats.error} onRetry={stats.reload} />
      {!s && stats.loading && <Spinner />}
      {s && (
        <>
          <div className="kpis">
            <Kpi label="Requests" value={num(s.totals.requests)} detail={`${num(s.totals.attempts)} upstream calls`} />
            <Kpi
              label="Tokens"
              value={short(s.totals.input_tokens + s.totals.output_tokens)}
              detail={`${short(s.totals.input_tokens)} in · ${short(s.totals.output_tokens)} out`}
            />
            <Kpi label="Cost" value={usd(s.totals.cost_usd)} detail={`avg latency ${ms(s.totals.avg_latency_ms)}`} />
            <Kpi
              label="Errors"
              value={num(s.totals.errors)}
              detail={`${pct(s.totals.errors, s.totals.attempts)} of calls`}
              tone={s.totals.errors ? "bad" : undefined}
            />
          </div>
          {s.totals.attempts === 0 ? (
            <Empty
              title="No traffic in this period"
              action={
                <Link className="btn primary" href="/chat">
                  Open the chat playground
                </Link>
              }
            >
              Requests through <code>/api/v1/chat</code> and the compatible endpoints show up here within a second. Send one from the chat
              playground to see it.
            </Empty>
          ) : (
            <>
              <div className="charts">
                <StackedBars
                  title={`Requests by ${GROUPS[group].toLowerCase()}`}
                  buckets={buckets("requests")}
                  series={series}
                  timeLabel={timeLabel}
                />
                <StackedBars
                  title="Tokens"
                  buckets={tokenBuckets()}
                  series={[
                    { key: "input", label: "Input", color: PALETTE[1] },
                    { key: "output", label: "Output", color: PALETTE[0] },
                  ]}
                  timeLabel={timeLabel}
                />
                <StackedBars
                  title={`Cost by ${GROUPS[group].toLowerCase()}`}
                  buckets={buckets("cost_usd")}
                  series={series}
                  timeLabel={timeLabel}
                  format={usdShort}
                />
                <StackedBars
                  title={`Errors by ${GROUPS[group].toLowerCase()}`}
                  buckets={buckets("errors")}
                  series={series}
                  timeLabel={timeLabel}
                />
              </div>
              <div className="split">
                <BarList
                  title={`Requests by ${GROUPS[group].toLowerCase()}`}
                  items={s.groups
                    .slice(0, 10)
                    .map((g, i) => ({ key: g.key, label: g.label, value: g.requests, color: i < TOP ? PALETTE[i] : OTHER_COLOR }))}
                />
                <BarList
                  title={`Cost by ${GROUPS[group].toLowerCase()}`}
                  format={usd}
                  items={[...s.groups]
                    .sort((a, b) => b.cost_usd - a.cost_usd)
                    .slice(0, 10)
                    .map((g) => ({
                      key: g.key,
                      label: g.label,
                      value: g.cost_usd,
                      color:
                        PALETTE[
                          Math.max(
                            0,
                            top.findIndex((t) => t.key === g.key),
                          ) % PALETTE.length
                        ],
                    }))}
                />
              </div>
              <section className="section">
                <h2>By {GROUPS[group].toLowerCase()}</h2>
                <DataTable
                  rows={s.groups}
                  rowKey={(g) => g.key}
                  caption={`Usage by ${GROUPS[group].toLowerCase()}`}
                  columns={[
                    { key: "label", label: GROUPS[group], render: (g) => labelOf.get(g.key) ?? g.key },
                    { key: "requests", label: "Requests", numeric: true, render: (g) => num(g.requests) },
                    {
                      key: "tokens",
                      label: "Tokens in / out",
                      numeric: true,
                      render: (g) => `${short(g.input_tokens)} / ${short(g.output_tokens)}`,
                    },
                    { key: "cost", label: "Cost", numeric: true, render: (g) => usd(g.cost_usd) },
                    { key: "errors", label: "Errors", numeric: true, render: (g) => `${num(g.errors)} (${pct(g.errors, g.attempts)})` },
                    { key: "latency", label: "Avg latency", numeric: true, render: (g) => ms(g.avg_latency_ms) },
                  ]}
                />
              </section>
            </>
          )}
        </>
      )}
    </Page>
  );
}

function Kpi(props: { label: string; value: string; detail?: string; tone?: "bad" }) {
  return (
    <div className={`kpi card${props.tone ? " tone-" + props.tone : ""}`}>
      <p className="kpi-label">{props.label}</p>
      <p className="kpi-value">{props.value}</p>
      {props.detail && <p className="muted small">{props.detail}</p>}
    </div>
  );
}
