import { describe, expect, it } from "vitest";
import { describeCron, preview } from "./schedule";

describe("describeCron", () => {
  it("reads common shapes", () => {
    expect(describeCron("* * * * *")).toBe("Every minute");
    expect(describeCron("*/15 * * * *")).toBe("Every 15 minutes");
    expect(describeCron("5 * * * *")).toBe("Every hour at minute 5");
    expect(describeCron("0 9 * * *")).toBe("Every day at 09:00");
    expect(describeCron("30 8 * * 1-5")).toBe("Every weekday at 08:30");
    expect(describeCron("0 18 * * 5")).toBe("Every Friday at 18:00");
    expect(describeCron("0 0 1 * *")).toBe("On day 1 of every month at 00:00");
    expect(describeCron("0 0 9 * * 1")).toBe("Every Monday at 09:00");
  });

  it("shows unusual patterns as written", () => {
    expect(describeCron("0 9-17/2 * 1,6 *")).toBe('cron "0 9-17/2 * 1,6 *"');
  });
});

describe("preview", () => {
  const now = new Date("2030-01-07T10:00:00Z"); // a Monday

  it("computes cron runs in the schedule's time zone", () => {
    const p = preview({ cron: "0 9 * * 1-5", timezone: "Europe/Paris" }, 3, now);
    expect(p.error).toBeUndefined();
    expect(p.summary).toBe("Every weekday at 09:00 (Europe/Paris)");
    // 09:00 in Paris in January is 08:00 UTC; Monday's has passed.
    expect(p.next.map((d) => d.toISOString())).toEqual([
      "2030-01-08T08:00:00.000Z",
      "2030-01-09T08:00:00.000Z",
      "2030-01-10T08:00:00.000Z",
    ]);
  });

  it("spaces intervals from now", () => {
    const p = preview({ every_seconds: 3600 }, 2, now);
    expect(p.summary).toMatch(/^Every hour/);
    expect(p.next.map((d) => d.getTime() - now.getTime())).toEqual([3600_000, 7200_000]);
  });

  it("explains bad input", () => {
    expect(preview({ cron: "61 * * * *", timezone: "UTC" }, 3, now).error).toBeTruthy();
    expect(preview({ every_seconds: 0 }, 3, now).error).toMatch(/at least 1/);
    expect(preview({ at: "not a date" }, 3, now).error).toMatch(/valid/);
    expect(preview({ at: "2029-01-01T00:00:00Z" }, 3, now).error).toMatch(/passed/);
  });

  it("without a schedule runs once", () => {
    expect(preview(null, 3, now)).toEqual({ summary: "Runs once, as soon as an agent is free", next: [] });
  });
});
