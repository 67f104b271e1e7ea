/** `tlplab harden` output: JSON (tlplab/harden-v1), the terminal listing, and Markdown. */
import pc from 'picocolors';
import type { HardenReport, HardenResult } from '../hunt/harden/session.ts';
import { md } from './escape.ts';
import { describeVariant } from './variant-text.ts';

export function renderHardenJson(result: HardenResult, options: { meta?: boolean } = {}): string {
  const document = {
    schema: result.schema,
    seed: result.seed,
    budget: result.budget,
    input: result.input,
    targets: result.targets.map((t) => ({
      scenario: t.scenario,
      file: t.file,
      variant: t.variant,
      attacker: t.attacker,
      status: t.status,
      findings: t.findings,
      solutions: t.solutions,
      candidates: t.candidates,
      hunts: t.hunts,
      hardened: t.hardened === null ? null : { name: t.hardened.name, file: t.written, replayed: t.hardened.replayed },
    })),
    ...(options.meta === false ? {} : { meta: result.meta }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function title(t: HardenReport): string {
  return `${t.scenario}${Object.keys(t.variant).length === 0 ? '' : ` (${describeVariant(t.variant)})`}`;
}

export function renderHardenText(result: HardenResult, options: { color: boolean }): string {
  const paint = pc.createColors(options.color);
  const out = [paint.bold(`tlplab harden ${result.input.file} — seed ${result.seed}, ${result.budget} random probe(s) per hunt`)];
  for (const a of result.input.assumptions) out.push(`  assumed: ${a}`);
  for (const t of result.targets) {
    out.push('', paint.bold(title(t)));
    if (t.status === 'already-isolated') {
      out.push(`  ${paint.green('hunt finds no breach: nothing to harden')}`);
      continue;
    }
    out.push(`  hunt finds ${t.findings.length} breach(es): ${[...new Set(t.findings.map((f) => `${f.kind} of ${f.victim}`))].join(', ')}`);
    if (t.status === 'no-solution') {
      out.push(`  ${paint.red(`no set of the ${t.candidates} candidate changes closes them all`)} (${t.hunts} hunts)`);
      continue;
    }
    out.push(`  ${t.solutions.length} smallest set(s) under which hunt finds nothing (${t.candidates} candidate changes, ${t.hunts} hunts):`);
    t.solutions.forEach((s, i) => {
      out.push(`  ${paint.green(`#${i + 1}`)} ${s.size} change(s)${s.search === 'greedy' ? ' (greedy search: may not be the smallest)' : ''}`);
      for (const c of s.changes) out.push(`      ${paint.bold(c.label)} [${c.costClass}] — ${c.cost}`);
    });
    if (t.written !== null) out.push(`  written: ${t.written}${t.hardened?.replayed ? ' (replayed: isolated)' : paint.red(' (did NOT replay isolated)')}`);
  }
  const open = result.targets.filter((t) => t.status === 'no-solution').length;
  out.push('', open === 0 ? paint.green(`every configuration is isolated or has a hardening (${result.targets.length})`) : paint.red(`${open} configuration(s) could not be hardened`));
  return `${out.join('\n')}\n`;
}

export function renderHardenMarkdown(result: HardenResult): string {
  const out = [`# tlplab harden: ${md(result.input.file)}`, ''];
  for (const t of result.targets) {
    out.push(`## ${md(title(t))}`, '');
    if (t.status === 'already-isolated') {
      out.push('Hunt finds no breach.', '');
      continue;
    }
    out.push(`Hunt finds ${t.findings.length} breach(es).`, '');
    if (t.status === 'no-solution') {
      out.push('No set of changes closes them all.', '');
      continue;
    }
    out.push('| # | changes | cost |', '|---|---|---|');
    t.solutions.forEach((s, i) => out.push(`| ${i + 1} | ${s.changes.map((c) => md(c.label)).join('<br>')} | ${s.changes.map((c) => `${c.costClass}: ${md(c.cost)}`).join('<br>')} |`));
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
