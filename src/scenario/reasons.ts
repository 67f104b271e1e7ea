/**
 * The whole reason registry: every layer's codes, loaded together so that
 * validation, `explain`, the JSON and the README table see all of them.
 */
import { allReasons, type ReasonInfo } from '../pcie/reasons.ts';
import '../fabric/reasons.ts';
import '../iommu/reasons.ts';
import '../interrupts/reasons.ts';
import '../policy/reasons.ts';

export { reasonInfo } from '../pcie/reasons.ts';

export function registry(): ReasonInfo[] {
  return allReasons();
}

/** The README's reason table (Markdown), generated from the registry; a test keeps the README in step. */
export function reasonTable(): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const rows = registry().map((r) => `| \`${r.code}\` | ${r.outcome} | ${escape(r.title)} | ${escape(r.source)} |`);
  return ['| reason | outcome | what happened | source |', '|---|---|---|---|', ...rows].join('\n');
}
