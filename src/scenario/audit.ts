/**
 * `tlplab audit <lspci dump>`: the attack library's machine-independent
 * attacks, run against an imported machine. Every endpoint in turn is the
 * attacker (a hostile device or firmware) and tries, as the library's
 * scenarios do: a write into every other device's BAR (p2p-behind-switch,
 * multifunction-no-acs), a write carrying each other device's requester ID
 * into that device's DMA buffer (requester-id-spoofing), and a forged
 * compatibility-format MSI (white-rabbit-msi-injection). Each device gets
 * its own paging domain with one buffer, as a host with the IOMMU on gives
 * its devices. What lspci cannot show is an assumption, printed as such; a
 * result that depends on ACS a non-root dump hides is "unknown", never
 * guessed.
 */
import { parseLspci } from '../import/lspci/parse.ts';
import { fabricFromLspci } from '../import/lspci/to-fabric.ts';
import { topologyFromLspci } from '../import/lspci/to-topology.ts';
import { formatRid } from '../pcie/bdf.ts';
import { rangesOverlap, type AddressRange } from '../pcie/range.ts';
import type { PciFunction as TopologyFunction } from '../policy/pci-topology.ts';
import type { Tlp } from '../pcie/tlp.ts';
import { HOST, type DomainSpec, type FunctionSpec, type MachineSpec, type ScenarioSpec, type StepSpec } from './model.ts';
import { runVariant } from './runner.ts';
import { unexpectedVariant } from './load.ts';

export type AuditAttack = 'p2p-bar-write' | 'forged-requester-id' | 'msi-injection';

export interface AuditFinding {
  readonly attacker: string;
  readonly attack: AuditAttack;
  readonly victim: string | null;
  readonly result: 'succeeds' | 'stopped' | 'unknown';
  readonly detail: string;
}

export interface AuditOptions {
  readonly iommu: 'vtd' | 'amd-vi' | 'none';
  readonly interruptRemapping: boolean;
  readonly sourceIdValidation: boolean;
}

export interface AuditReport {
  readonly schema: 'tlplab/audit-v1';
  readonly assumptions: readonly string[];
  readonly devices: readonly string[];
  readonly findings: readonly AuditFinding[];
  readonly skipped: readonly { readonly device: string; readonly reason: string }[];
}

const BUFFER_IOVA = 0x10000;
const BUFFER_SIZE = 0x2000;

export function auditLspci(text: string, options: AuditOptions): AuditReport {
  const dump = parseLspci(text);
  const { config, skipped } = fabricFromLspci(dump);
  const { topology } = topologyFromLspci(dump);
  const byKey = new Map(topology.functions.map((f) => [f.key, f]));
  const endpoints = config.functions.filter((f) => f.kind === 'endpoint' || f.kind === 'rciep' || f.kind === 'pci-device');
  const ram = freeRam(config.functions.flatMap((f) => [...(f.bars ?? []).flatMap((b) => (b.at === undefined ? [] : [{ base: b.at, size: b.size }])), ...windowsOf(f)]));
  const buffers = new Map(endpoints.map((f, i) => [f.id, ram.base + i * BUFFER_SIZE]));
  const memory = [
    { name: 'host-ram', base: ram.base, size: endpoints.length * BUFFER_SIZE, owner: HOST },
  ];
  const findings: AuditFinding[] = [];
  for (const attacker of endpoints) {
    const unknownAcs = portsAbove(attacker.id, byKey).filter((p) => p.acs.kind === 'unknown').map((p) => p.key);
    const spec = auditSpec(config, memory, endpoints.map((f) => f.id), buffers, attacker.id, options);
    const run = runVariant({ file: 'audit' }, unexpectedVariant(spec), 1);
    const fabric = run.machine.fabric;
    for (const record of run.steps) {
      const step = record.step;
      const tlp = record.tlps[0];
      if (tlp === undefined || !('from' in step)) continue;
      const victim = step.note;
      const attack: AuditAttack = step.kind === 'write' && step.as !== null ? 'forged-requester-id' : step.kind === 'write' && 'bar' in step.target ? 'p2p-bar-write' : 'msi-injection';
      const landed = tlp.outcome === 'delivered' || tlp.outcome === 'completed';
      // P2P routing and source validation are decided by the ports' ACS: unknown ACS, unknown result.
      if (attack !== 'msi-injection' && unknownAcs.length > 0) {
        findings.push({ attacker: attacker.id, attack, victim, result: 'unknown', detail: `depends on ACS of ${unknownAcs.join(', ')}, which the dump does not show (lspci without root)` });
        continue;
      }
      // No port sits above an RCiEP: whether the root complex checks its requester IDs is implementation-specific.
      if (attack === 'forged-requester-id' && landed && portsAbove(attacker.id, byKey).length === 0) {
        findings.push({ attacker: attacker.id, attack, victim, result: 'unknown', detail: 'no ACS port validates an integrated device\'s requester ID; whether the root complex does is implementation-specific' });
        continue;
      }
      findings.push({ attacker: attacker.id, attack, victim, result: landed ? 'succeeds' : 'stopped', detail: describe(tlp, fabric.byRid.get(tlp.issuedRequesterId)?.id) });
    }
  }
  return {
    schema: 'tlplab/audit-v1',
    assumptions: [
      `IOMMU: ${options.iommu}${options.iommu === 'none' ? '' : `, DMA remapping on, every device in its own paging domain with one ${BUFFER_SIZE / 1024} KiB buffer`}`,
      `interrupt remapping ${options.interruptRemapping ? 'on' : 'off'}${options.interruptRemapping ? `, source-ID validation ${options.sourceIdValidation ? 'on' : 'off (intremap=nosid)'}` : ''} — lspci does not show it; dmesg 'DMAR-IR: Enabled IRQ remapping' does`,
      'each endpoint in turn is a hostile device; ACS as lspci shows it (unknown without root)',
    ],
    devices: endpoints.map((f) => f.id),
    findings,
    skipped,
  };
}

function auditSpec(
  config: MachineSpec['fabric'],
  memory: MachineSpec['memory'],
  devices: readonly string[],
  buffers: ReadonlyMap<string, number>,
  attacker: string,
  options: AuditOptions,
): ScenarioSpec {
  const functions: FunctionSpec[] = config.functions.map((f) => ({
    id: f.id,
    device: f.id,
    owner: devices.includes(f.id) ? `dev ${f.id}` : HOST,
    driver: null,
    msi: null,
    msix: null,
    ats: false,
    barRegions: [],
  }));
  const domains: DomainSpec[] = devices.map((id) => ({
    name: `dom ${id}`,
    devices: [id],
    mode: 'paging',
    map: [{ iova: BUFFER_IOVA, to: { address: buffers.get(id)! }, size: BUFFER_SIZE, perm: 'rw' }],
    deviceTlb: false,
  }));
  const ridOf = (id: string) => {
    const bdf = config.functions.find((f) => f.id === id)!.bdf!;
    return (bdf.bus << 8) | (bdf.device << 3) | bdf.fn;
  };
  const steps: StepSpec[] = [];
  const base = { from: attacker, translated: false, pasid: null, data: 0x5a5a, size: 4 } as const;
  for (const victim of devices) {
    if (victim === attacker) continue;
    const bars = config.functions.find((f) => f.id === victim)!.bars ?? [];
    if (bars.length > 0) steps.push({ ...base, kind: 'write', index: steps.length, at: steps.length * 1000, note: victim, as: null, target: { bar: { device: victim, index: 0 }, offset: 0 } });
    steps.push({ ...base, kind: 'write', index: steps.length, at: steps.length * 1000, note: victim, as: ridOf(victim), target: { address: BUFFER_IOVA } });
  }
  steps.push({ ...base, kind: 'write', index: steps.length, at: steps.length * 1000, note: null, as: null, data: 0x80, target: { address: 0xfee0_0000 } });
  return {
    file: 'audit',
    name: 'audit',
    title: `audit of ${attacker}`,
    summary: '',
    sources: [],
    machine: {
      cpus: 4,
      iommu: {
        model: options.iommu,
        dmaRemapping: options.iommu !== 'none',
        interruptRemapping: options.iommu !== 'none' && options.interruptRemapping,
        sourceIdValidation: options.sourceIdValidation,
        compatFormat: 'blocked',
        x2apic: false,
        invalidation: 'strict',
        flushTimeoutNs: 10_000_000,
        flushQueueSize: 256,
        iotlbEntries: 512,
        iotlbReplacement: 'lru',
        irTableSize: 65536,
        postedInterrupts: false,
      },
      msiController: 'x86',
      msiDoorbell: null,
      kernel: { acsOverride: [], unsafeInterrupts: false, vfioViability: 'enforced', groups: 'classic' },
      fabric: { ...config, memory: memory.map(({ name, base, size }) => ({ name, base, size })) },
      timing: { arbitration: 'fifo', jitterNs: 0 },
      functions,
      memory,
      irtes: [],
      postedDescriptors: [],
      apicLogicalModel: 'flat',
    },
    domains,
    attacker: `dev ${attacker}`,
    via: 'device',
    steps,
  };
}

function describe(tlp: Tlp, forgedAs: string | undefined): string {
  const code = tlp.faultCode === null ? '' : ` 0x${tlp.faultCode.toString(16).padStart(2, '0')}`;
  const as = forgedAs === undefined || tlp.origin === forgedAs ? '' : ` (as ${formatRid(tlp.issuedRequesterId)})`;
  if (tlp.outcome === 'delivered' || tlp.outcome === 'completed') return `${tlp.outcome} to ${tlp.target?.name ?? '?'} at ${tlp.decidedAt}${as}`;
  return `${tlp.outcome} at ${tlp.decidedAt}: ${tlp.reason}${code}${as}`;
}

/** Root and downstream ports between a function and the root bus (where ACS is enforced). */
function portsAbove(key: string, byKey: ReadonlyMap<string, TopologyFunction>): TopologyFunction[] {
  const ports: TopologyFunction[] = [];
  for (let fn = byKey.get(key); fn !== undefined && fn.parent !== null; ) {
    const parent = byKey.get(fn.parent);
    if (parent === undefined) break;
    if (parent.portType === 'root-port' || parent.portType === 'downstream' || parent.portType === 'unknown') ports.push(parent);
    fn = parent;
  }
  return ports;
}

function windowsOf(f: MachineSpec['fabric']['functions'][number]): AddressRange[] {
  const w = f.windows;
  return [w?.memory, w?.prefetchable].filter((r): r is AddressRange => r !== undefined && r !== null);
}

/** A stretch of low memory clear of every pinned BAR and window, for the devices' buffers. */
function freeRam(taken: readonly AddressRange[]): AddressRange {
  const candidate = { base: 0x100_0000, size: 0x100_0000 };
  for (let base = candidate.base; base < 0x1_0000_0000; base += 0x100_0000) {
    const range = { base, size: candidate.size };
    if (!taken.some((t) => rangesOverlap(t, range))) return range;
  }
  return candidate;
}
