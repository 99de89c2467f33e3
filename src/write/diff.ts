/** A small unified line diff for --check reports (LCS; large files get a summary instead). */
export function unifiedDiff(path: string, before: string, after: string, context = 2): string {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > 4_000_000)
    return `--- ${path}\n+++ ${path}\n(file differs: ${a.length} lines on disk, ${b.length} expected)\n`;
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Array<{ op: " " | "-" | "+"; line: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ op: " ", line: a[i], ai: i++, bi: j++ });
    else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1]))
      ops.push({ op: "-", line: a[i], ai: i++, bi: j });
    else ops.push({ op: "+", line: b[j], ai: i, bi: j++ });
  }
  const out = [`--- ${path} (on disk)`, `+++ ${path} (generated)`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].op === " ") {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    while (
      end < ops.length &&
      (ops[end].op !== " " || ops.slice(end, end + context * 2 + 1).some((o) => o.op !== " "))
    )
      end++;
    end = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, end);
    const aStart = hunk[0].ai + 1;
    const bStart = hunk[0].bi + 1;
    out.push(
      `@@ -${aStart},${hunk.filter((o) => o.op !== "+").length} +${bStart},${hunk.filter((o) => o.op !== "-").length} @@`,
    );
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    k = end;
  }
  return `${out.join("\n")}\n`;
}
