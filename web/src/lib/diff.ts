// Line diff (Myers' O(ND) algorithm) for document revisions.

export interface DiffLine {
  op: "=" | "+" | "-";
  text: string;
}

/** Beyond this many edits the diff is shown as "everything replaced" (keeps memory bounded). */
const MAX_EDITS = 2000;

/** The lines of `b` against those of `a`: kept (=), added (+) and removed (-), in order. */
export function diffLines(a: string, b: string): DiffLine[] {
  const A = a === "" ? [] : a.split("\n");
  const B = b === "" ? [] : b.split("\n");
  // Common head and tail need no search.
  let head = 0;
  while (head < A.length && head < B.length && A[head] === B[head]) head++;
  let tail = 0;
  while (tail < A.length - head && tail < B.length - head && A[A.length - 1 - tail] === B[B.length - 1 - tail]) tail++;
  const a2 = A.slice(head, A.length - tail);
  const b2 = B.slice(head, B.length - tail);
  const middle = myers(a2, b2) ?? [...a2.map((text) => ({ op: "-" as const, text })), ...b2.map((text) => ({ op: "+" as const, text }))];
  return [
    ...A.slice(0, head).map((text) => ({ op: "=" as const, text })),
    ...middle,
    ...A.slice(A.length - tail).map((text) => ({ op: "=" as const, text })),
  ];
}

function myers(A: string[], B: string[]): DiffLine[] | null {
  const N = A.length;
  const M = B.length;
  const max = N + M;
  if (max === 0) return [];
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[-d-1 ..= d+1] as it was before step d.
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, MAX_EDITS); d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < N && y < M && A[x] === B[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= N && y >= M) return backtrack(A, B, trace);
    }
  }
  return null;
}

function backtrack(A: string[], B: string[], trace: Int32Array[]): DiffLine[] {
  const out: DiffLine[] = [];
  let x = A.length;
  let y = B.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const t = trace[d];
    const at = (k: number) => t[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: "=", text: A[x - 1] });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) out.push({ op: "+", text: B[y - 1] });
      else out.push({ op: "-", text: A[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** Counts of added and removed lines. */
export function diffStat(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.op === "+") added++;
    else if (l.op === "-") removed++;
  }
  return { added, removed };
}
