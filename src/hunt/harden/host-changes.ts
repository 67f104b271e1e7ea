/**
 * More of the configuration space harden searches: the host's and the
 * firmware's options over time (issue 17's keys) — Xen's quarantine and
 * AMD interrupt-table options and the XSA-36 fix, firmware DMA protection
 * kept until the OS takes over, Linux's default domain, external-facing
 * ports (Linux then treats what is below as untrusted), reserved regions
 * that keep a 1:1 map for an attacker's device — and the scenario's own
 * variant axes, which its author already named as the knobs that matter
 * (attack axes excluded: they change the attack, not the machine).
 */
import { produce } from 'immer';
import { Checker } from '../../scenario/checker.ts';
import type { ScenarioSpec } from '../../scenario/model.ts';
import { validateShape } from '../../scenario/shape.ts';
import { applyAssignment, describeAssignment, resolveAxes, sameValue } from '../../scenario/variants.ts';
import type { Change, CostClass } from './changes.ts';
import { findEntry, setPath } from './changes.ts';

type Doc = Record<string, unknown>;

export function hostChanges(spec: ScenarioSpec, attacker: readonly string[]): Change[] {
  const m = spec.machine;
  const out: Change[] = [];
  const set = (id: string, label: string, cost: string, costClass: CostClass, path: string, value: unknown) =>
    out.push({ id, label, cost, costClass, path, value, apply: (doc) => produce(doc, (d) => void setPath(d, path.split('.'), value)) });
  if (m.host === 'xen') {
    if (m.xen.quarantine === 'off') set('xen:quarantine', 'Xen iommu=quarantine', 'a deassigned device is put in a quarantine domain (its DMA faults) instead of back in dom0\'s (Xen 4.12+, XSA-302)', 'kernel', 'machine.xen.quarantine', 'basic');
    if (!m.xen.perDeviceIntremap) set('xen:perdev-intremap', 'Xen amd-iommu-perdev-intremap', 'one AMD interrupt-remapping table per device: a device can name only its own entries (XSA-36); more table memory', 'kernel', 'machine.xen.amd-iommu-perdev-intremap', 'on');
    if (m.xen.staleIrtes === 'kept') set('xen:clear-irtes', 'Xen clears a deassigned device\'s IRTEs (the XSA-36 fix)', 'a Xen update: deassign_device frees the device\'s interrupt-table entries', 'kernel', 'machine.xen.stale-irtes', 'cleared');
  }
  if (m.firmware.dmaProtection !== 'handover') set('firmware:dma-protection', 'firmware DMA protection kept until the OS takes over', 'pre-boot DMA protection (Thunderbolt / Kernel DMA Protection) left on until the OS\'s IOMMU driver runs: a firmware setting', 'firmware', 'machine.firmware.dma-protection', 'handover');
  if (m.kernel.defaultDomain === 'identity') set('kernel:default-domain', 'translated default domain (iommu.passthrough=0)', 'trusted devices DMA through a translated default domain: IOTLB misses add latency, drivers map their buffers', 'kernel', 'machine.kernel.default-domain', 'dma');
  const byId = new Map(m.fabric.functions.map((f) => [f.id, f]));
  const ports = new Set<string>();
  for (const id of attacker) for (let up = byId.get(byId.get(id)?.parent ?? ''); up !== undefined; up = byId.get(up.parent ?? '')) if (up.kind === 'root-port') ports.add(up.id);
  for (const port of ports) {
    if (m.functions.find((f) => f.id === port)?.externalFacing) continue;
    out.push({
      id: `external:${port}`,
      label: `mark ${port} external-facing (ACPI ExternalFacingPort)`,
      cost: `Linux treats what is below ${port} as untrusted (set_pcie_untrusted): a DMA domain, strict invalidation, bounce buffers, no ATS — a firmware table change`,
      costClass: 'firmware',
      path: `machine.devices.${port}.external-facing`,
      value: true,
      apply: (doc) => produce(doc, (draft) => {
        const entry = findEntry(draft, port);
        if (entry !== undefined) entry['external-facing'] = true;
      }),
    });
  }
  // The host rewrites IRTEs without invalidating the interrupt entry cache: Linux's modify_irte() flushes it each time (qi_flush_iec).
  const rewrites = spec.steps.filter((st) => st.kind === 'irte-write' && !st.after);
  if (rewrites.length > 0) {
    out.push({
      id: 'host:iec-after-irte-write',
      label: 'invalidate the interrupt entry cache after each IRTE rewrite',
      cost: 'the host flushes the IEC with every IRTE change, as Linux modify_irte() does (qi_flush_iec): a few microseconds per change (VT-d 5.10 §6.5.2.7)',
      costClass: 'kernel',
      path: 'attack.steps',
      value: 'invalidate: iec',
      apply: (doc) => produce(doc, (draft) => {
        const attack = draft.attack as { steps: Record<string, unknown>[] };
        const steps = attack.steps.map((e) => ({ ...e }));
        for (let i = steps.length - 1; i >= 0; i--) {
          if (steps[i]!['irte-write'] === undefined || steps[i]!.after !== undefined) continue;
          // Inserted right after the rewrite: steps waiting on later steps move up by one.
          for (const e of steps) {
            const after = e.after as { step?: number } | undefined;
            if (after?.step !== undefined && after.step > i) e.after = { ...after, step: after.step + 1 };
          }
          steps.splice(i + 1, 0, { at: steps[i]!.at, invalidate: 'iec', note: 'added by tlplab harden' });
        }
        attack.steps = steps as never;
      }),
    });
  }
  m.reserved.forEach((r, i) => {
    if (!r.devices.some((d) => attacker.includes(d))) return;
    out.push({
      id: `reserved:${i}`,
      label: `no ${r.kind.toUpperCase()} for ${r.devices.join(', ')} (${r.region})`,
      cost: `firmware that reports no ${r.kind === 'rmrr' ? 'RMRR' : 'IVMD'} for ${r.devices.join(', ')}: the device loses its 1:1 window on ${r.region} (legacy USB/graphics handover may break)`,
      costClass: 'firmware',
      path: `machine.reserved.${i}`,
      value: null,
      apply: (doc) => produce(doc, (draft) => {
        const list = (draft.machine as { reserved: unknown[] }).reserved;
        list.splice(i, 1);
        if (list.length === 0) delete (draft.machine as { reserved?: unknown }).reserved;
      }),
    });
  });
  return out;
}

/** The scenario's own variant axes, each other value a change (the attack's axes excluded). */
export function axisChanges(document: Doc, assignment: Readonly<Record<string, unknown>>): Change[] {
  const locate = (path: readonly (string | number)[], message: string, code: string) => ({ file: '', line: 0, column: 0, message: `${path.join('.')}: ${message}`, code });
  const shape = validateShape(document, locate);
  if (!shape.ok) return [];
  const axes = resolveAxes(shape.entry, document, new Checker(locate)).filter((a) => !a.name.startsWith('attack.'));
  return axes.flatMap((axis) =>
    axis.values
      .filter((value) => !(axis.name in assignment) || !sameValue(assignment[axis.name], value))
      .map((value) => ({
        id: `axis:${axis.name}=${JSON.stringify(value)}`,
        label: describeAssignment({ [axis.name]: value }),
        cost: `the scenario's own alternative for ${axis.name} (was ${JSON.stringify(assignment[axis.name])})`,
        costClass: classOf(axis.name),
        path: axis.name,
        value,
        apply: (doc: Doc) => applyAssignment(doc, [axis], { [axis.name]: value }) as Doc,
      })),
  );
}

function classOf(path: string): CostClass {
  if (/^machine\.devices\..*\.acs$/.test(path)) return 'config';
  if (/^machine\.devices\..*\.(owner|driver)$/.test(path)) return 'ownership';
  if (/^machine\.devices\./.test(path)) return 'hardware';
  if (path.startsWith('machine.firmware')) return 'firmware';
  // Another hypervisor, MSI controller or IOMMU model is another platform.
  if (path === 'machine.host' || path === 'machine.msi-controller' || path === 'machine.iommu.model') return 'hardware';
  return 'kernel';
}
