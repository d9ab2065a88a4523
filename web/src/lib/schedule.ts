// Task schedules as the gateway takes them ({"at"}, {"cron", "timezone"},
// {"every_seconds"}) and a readable preview of their next runs.
import { Cron } from "croner";
import type { Schedule } from "../api/models";

export type ScheduleKind = "none" | "at" | "cron" | "every";

/** The browser's time zone, the default for new cron schedules. */
export const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export interface Preview {
  /** One line a person reads: "Every weekday at 09:00 (Europe/Paris)". */
  summary: string;
  /** The next runs, soonest first. */
  next: Date[];
  /** Why the schedule is not valid, if it is not. */
  error?: string;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function two(n: string): string {
  return n.padStart(2, "0");
}

/** Words for the common cron shapes; other patterns are shown as written. */
export function describeCron(pattern: string): string {
  const f = pattern.trim().split(/\s+/);
  if (f.length === 6) f.shift(); // seconds first: describe the rest
  if (f.length !== 5) return `cron "${pattern}"`;
  const [min, hour, dom, mon, dow] = f;
  const everyDay = dom === "*" && mon === "*";
  const isNum = (s: string) => /^\d+$/.test(s);
  if (f.every((x) => x === "*")) return "Every minute";
  const step = /^\*\/(\d+)$/.exec(min);
  if (step && hour === "*" && everyDay && dow === "*") return `Every ${step[1]} minutes`;
  if (isNum(min) && hour === "*" && everyDay && dow === "*") return `Every hour at minute ${min}`;
  const hstep = /^\*\/(\d+)$/.exec(hour);
  if (isNum(min) && hstep && everyDay && dow === "*") return `Every ${hstep[1]} hours at minute ${min}`;
  if (isNum(min) && isNum(hour)) {
    const at = `${two(hour)}:${two(min)}`;
    if (everyDay && dow === "*") return `Every day at ${at}`;
    if (everyDay && (dow === "1-5" || dow === "MON-FRI")) return `Every weekday at ${at}`;
    if (everyDay && /^[0-7]$/.test(dow)) return `Every ${DAYS[Number(dow) % 7]} at ${at}`;
    if (isNum(dom) && mon === "*" && dow === "*") return `On day ${dom} of every month at ${at}`;
  }
  return `cron "${pattern}"`;
}

function everyText(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? "Every day" : `Every ${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? "Every hour" : `Every ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "Every minute" : `Every ${seconds / 60} minutes`;
  return `Every ${seconds} seconds`;
}

/** The summary and next `count` runs of a schedule, from `now`. */
export function preview(s: Schedule | null | undefined, count = 5, now = new Date()): Preview {
  if (!s || (s.at === undefined && s.cron === undefined && s.every_seconds === undefined)) {
    return { summary: "Runs once, as soon as an agent is free", next: [] };
  }
  if (s.at !== undefined) {
    const d = new Date(s.at);
    if (Number.isNaN(d.getTime())) return { summary: "", next: [], error: "not a valid date and time" };
    return { summary: "Runs once", next: [d], error: d < now ? "this time has passed: it runs at once" : undefined };
  }
  if (s.every_seconds !== undefined) {
    const n = Number(s.every_seconds);
    if (!Number.isInteger(n) || n < 1) return { summary: "", next: [], error: "must be a whole number of seconds, at least 1" };
    const next = Array.from({ length: count }, (_, i) => new Date(now.getTime() + n * 1000 * (i + 1)));
    return { summary: `${everyText(n)}, first run after creation`, next };
  }
  const tz = s.timezone || "UTC";
  try {
    const job = new Cron(s.cron as string, { timezone: tz, paused: true });
    const next = job.nextRuns(count, now);
    job.stop();
    if (!next.length) return { summary: describeCron(s.cron as string), next, error: "this pattern never matches" };
    return { summary: `${describeCron(s.cron as string)} (${tz})`, next };
  } catch (e) {
    return { summary: "", next: [], error: (e as Error).message.replace(/^CronPattern: /, "") };
  }
}

/** A run time shown in the schedule's zone, with the zone named. */
export function formatIn(d: Date, timeZone?: string): string {
  try {
    return d.toLocaleString(undefined, {
      timeZone: timeZone || undefined,
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    });
  } catch {
    return d.toISOString();
  }
}
