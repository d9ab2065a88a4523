import { describe, expect, it } from "vitest";
import { diffLines, diffStat } from "./diff";

/** Rebuilds both sides from a diff: what a correct diff must allow. */
function sides(lines: ReturnType<typeof diffLines>) {
  return {
    a: lines.filter((l) => l.op !== "+").map((l) => l.text),
    b: lines.filter((l) => l.op !== "-").map((l) => l.text),
  };
}

describe("diffLines", () => {
  it("marks nothing when equal", () => {
    const d = diffLines("a\nb", "a\nb");
    expect(d.every((l) => l.op === "=")).toBe(true);
    expect(diffStat(d)).toEqual({ added: 0, removed: 0 });
  });

  it("finds a changed line between kept ones", () => {
    const d = diffLines("one\ntwo\nthree", "one\n2\nthree");
    expect(d).toEqual([
      { op: "=", text: "one" },
      { op: "-", text: "two" },
      { op: "+", text: "2" },
      { op: "=", text: "three" },
    ]);
  });

  it("handles empty sides", () => {
    expect(diffLines("", "x\ny")).toEqual([
      { op: "+", text: "x" },
      { op: "+", text: "y" },
    ]);
    expect(diffStat(diffLines("x", ""))).toEqual({ added: 0, removed: 1 });
  });

  it("is minimal and reversible on random edits", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: Math.floor(rnd() * 30) }, () => "abcde"[Math.floor(rnd() * 5)]);
      const b = a.filter(() => rnd() > 0.2);
      for (let i = 0; i < 4; i++) b.splice(Math.floor(rnd() * (b.length + 1)), 0, "xyz"[Math.floor(rnd() * 3)]);
      const d = diffLines(a.join("\n"), b.join("\n"));
      const s = sides(d);
      expect(s.a.join("\n")).toBe(a.join("\n"));
      expect(s.b.join("\n")).toBe(b.join("\n"));
      // Never worse than deleting everything and adding everything.
      const st = diffStat(d);
      expect(st.added + st.removed).toBeLessThanOrEqual(a.length + b.length);
    }
  });

  it("keeps a long common head and tail out of the search", () => {
    const head = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const d = diffLines([...head, "old", ...head].join("\n"), [...head, "new", ...head].join("\n"));
    expect(diffStat(d)).toEqual({ added: 1, removed: 1 });
  });
});
