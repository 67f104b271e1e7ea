/** `tlplab hunt` output: JSON (tlplab/hunt-v1), the terminal listing, and Markdown for a CI job summary. */
import pc from 'picocolors';
import type { Finding, HuntResult, HuntTarget } from '../hunt/model.ts';
import { md } from './escape.ts';
import { describeVariant } from './variant-text.ts';

export function renderHuntJson(result: HuntResult, options: { meta?: boolean } = {}): string {
  const document = {
    schema: result.schema,
    seed: result.seed,
    budget: result.budget,
    input: result.input,
    findings: countFindings(result),
    targets: result.targets.map((t) => ({
      scenario: t.scenario,
      file: t.file,
      variant: t.variant,
      attacker: t.attacker,
      devices: t.devices,
      refusedBy: t.refusedBy,
      skipped: t.skipped,
      probes: t.probes,
      runs: t.runs,
      findings: t.findings.map(findingJson),
    })),
    ...(options.meta === false ? {} : { meta: result.meta }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function findingJson(f: Finding): Record<string, unknown> {
  const { repro, ...rest } = f;
  return { ...rest, repro: { name: repro.name, file: repro.file, checked: repro.checked, replayed: repro.replayed, steps: repro.steps } };
}

export function countFindings(result: HuntResult): number {
  return result.targets.reduce((n, t) => n + t.findings.length, 0);
}

function targetTitle(t: HuntTarget): string {
  const variant = Object.keys(t.variant).length === 0 ? '' : ` (${describeVariant(t.variant)})`;
  return `${t.scenario}${variant} — ${t.attacker} holds ${t.devices.join(', ') || 'nothing'}`;
}

export function renderHuntText(result: HuntResult, options: { color: boolean }): string {
  const paint = pc.createColors(options.color);
  const out = [paint.bold(`tlplab hunt ${result.input.file} — seed ${result.seed}, ${result.budget} random probe(s) per configuration`)];
  for (const a of result.input.assumptions) out.push(`  assumed: ${a}`);
  for (const t of result.targets) {
    out.push('', paint.bold(targetTitle(t)));
    if (t.skipped !== null) {
      out.push(`  ${paint.green('nothing to explore')}: ${t.skipped}`);
      continue;
    }
    const probes = t.probes.systematic + t.probes.random;
    out.push(`  ${probes} probes in ${t.runs} runs: ${t.findings.length === 0 ? paint.green('no breach found') : paint.red(`${t.findings.length} finding(s)`)}`);
    for (const f of t.findings) {
      out.push(`  ${paint.red(`${f.id} ${f.kind} of ${f.victim}`)}  ${f.path}`);
      const others = f.hits > 1 ? ` (+${f.hits - 1} other probe(s)${f.techniques.length > 1 ? `: ${f.techniques.filter((x) => x !== f.technique).join(', ')}` : ''})` : '';
      out.push(`      found by ${f.technique}: ${f.label}${others}`);
      for (const c of f.caveats) out.push(`      caveat: ${c}`);
      const written = f.repro.file === null ? `${f.repro.steps.length} step(s)${f.repro.checked ? '' : ' (did not check out)'}` : `${f.repro.file} (${f.repro.replayed ? 'replayed' : paint.red('did NOT replay')})`;
      out.push(`      repro: ${written}`);
    }
  }
  const total = countFindings(result);
  const configs = result.targets.length;
  out.push('', total === 0 ? paint.green(`no breach found in ${configs} configuration(s)`) : paint.red(`${total} finding(s) in ${configs} configuration(s)`));
  return `${out.join('\n')}\n`;
}

export function renderHuntMarkdown(result: HuntResult): string {
  const total = countFindings(result);
  const out = [`# tlplab hunt: ${md(result.input.file)}`, '', `Seed ${result.seed}, ${result.budget} random probe(s) per configuration. **${total} finding(s)** in ${result.targets.length} configuration(s).`];
  if (result.input.assumptions.length > 0) out.push('', 'Assumed:', ...result.input.assumptions.map((a) => `- ${md(a)}`));
  for (const t of result.targets) {
    out.push('', `## ${md(targetTitle(t))}`, '');
    if (t.skipped !== null) {
      out.push(`Nothing to explore: ${md(t.skipped)}`);
      continue;
    }
    out.push(`${t.probes.systematic + t.probes.random} probes in ${t.runs} runs.`);
    if (t.findings.length === 0) {
      out.push('', 'No breach found.');
      continue;
    }
    out.push('', '| finding | breach | from | found by | path |', '|---|---|---|---|---|');
    for (const f of t.findings) out.push(`| ${f.id} | ${md(`${f.kind} of ${f.victim}`)} | ${md(f.from)} | ${md(f.technique)} | ${md(f.path)} |`);
    for (const f of t.findings) {
      out.push('', `<details><summary>${f.id}: ${md(f.detail)}</summary>`, '');
      for (const c of f.caveats) out.push(`Caveat: ${md(c)}`, '');
      out.push(`Reproducer${f.repro.file === null ? '' : ` \`${f.repro.file}\``} steps:`, '', '```yaml', ...f.repro.steps.map((s) => `- ${JSON.stringify(s)}`), '```', '', '</details>');
    }
  }
  return `${out.join('\n')}\n`;
}
