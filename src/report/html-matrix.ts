/**
 * The isolation matrix as a pivot table: the first axes down, the last
 * ones across (at most six columns), one coloured verdict cell per run.
 * A cell links to its run (#r12); the page script selects it in place.
 */
import { esc } from './escape.ts';
import type { IndexedRun } from './html.ts';
import { formatValue, shortAxis } from './variant-text.ts';

const MAX_COLUMNS = 6;

/** Distinct values of each axis, in the order the runs bring them. */
function valuesOf(axes: readonly string[], runs: readonly IndexedRun[]): string[][] {
  return axes.map((axis) => [...new Set(runs.map((r) => formatValue(r.run.variant[axis])))]);
}

/** The cartesian product of value lists, first list slowest (as variants are enumerated). */
function product(lists: readonly string[][]): string[][] {
  return lists.reduce<string[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

/** Column axes: the last ⌊n/2⌋, fewer while they would make more than MAX_COLUMNS columns. */
export function splitAxes(sizes: readonly number[]): number {
  let k = Math.floor(sizes.length / 2);
  while (k > 0 && sizes.slice(sizes.length - k).reduce((a, b) => a * b, 1) > MAX_COLUMNS) k--;
  return sizes.length - k;
}

export function renderMatrix(axes: readonly string[], runs: readonly IndexedRun[]): string {
  const values = valuesOf(axes, runs);
  const split = splitAxes(values.map((v) => v.length));
  const rowAxes = axes.slice(0, split);
  const colAxes = axes.slice(split);
  const rows = product(values.slice(0, split));
  const cols = product(values.slice(split));
  const byKey = new Map(runs.map((r) => [JSON.stringify(axes.map((a) => formatValue(r.run.variant[a]))), r]));
  const out: string[] = ['<table class="matrix">', '<thead>'];
  const corner = Math.max(1, rowAxes.length);
  colAxes.forEach((axis, j) => {
    const cells = spans(cols.map((c) => c.slice(0, j + 1).join('\u0000'))).map(({ key, span }) => `<th colspan="${span}">${esc(key.split('\u0000')[j]!)}</th>`);
    out.push(`<tr><th class="axis" colspan="${corner}" style="text-align:right">${esc(shortAxis(axis))} →</th>${cells.join('')}</tr>`);
  });
  const rowHeads = rowAxes.length > 0 ? rowAxes.map((a) => `<th class="axis">${esc(shortAxis(a))} ↓</th>`).join('') : '<th class="axis">run</th>';
  out.push(`<tr>${rowHeads}${colAxes.length === 0 ? '<th>verdict</th>' : `<th colspan="${cols.length}"></th>`}</tr>`, '</thead>', '<tbody>');
  rows.forEach((row, i) => {
    const heads = rowAxes.length === 0 ? ['<th>base</th>'] : row.flatMap((value, j) => {
      // Merge equal leading values down the rows (rowspan), as spreadsheet pivots do.
      const prefix = row.slice(0, j + 1).join('\u0000');
      if (i > 0 && rows[i - 1]!.slice(0, j + 1).join('\u0000') === prefix) return [];
      const span = rows.slice(i).findIndex((r) => r.slice(0, j + 1).join('\u0000') !== prefix);
      return [`<th rowspan="${span < 0 ? rows.length - i : span}">${esc(value)}</th>`];
    });
    const cells = cols.map((col) => cell(byKey.get(JSON.stringify([...row, ...col]))));
    out.push(`<tr>${heads.join('')}${cells.join('')}</tr>`);
  });
  out.push('</tbody></table>');
  return out.join('\n');
}

function spans(keys: readonly string[]): { key: string; span: number }[] {
  const out: { key: string; span: number }[] = [];
  for (const key of keys) {
    const last = out[out.length - 1];
    if (last !== undefined && last.key === key) last.span++;
    else out.push({ key, span: 1 });
  }
  return out;
}

function cell(entry: IndexedRun | undefined): string {
  if (entry === undefined) return '<td class="empty">—</td>';
  const { id, run } = entry;
  const refused = run.gates.find((g) => g.enforced && !g.passed);
  const note = !run.pass ? `✗ expected ${run.expected}` : refused ? '✓ VFIO refused' : '✓';
  const title = `${run.verdict}, expected ${run.expected}${refused ? `; ${refused.gate} refused the assignment` : ''}`;
  return `<td class="cell ${run.verdict}${run.pass ? '' : ' miss'}" data-run="${id}"><a href="#${id}" title="${esc(title)}">${run.verdict}<small>${esc(note)}</small></a></td>`;
}
