/**
 * An lspci dump as a scenario document, so that hunt can explore it, write
 * reproducers for it and harden it like any scenario file. The machine is
 * taken as the dump shows it (BDFs and BAR addresses pinned, ACS as lspci
 * prints it, MSI/MSI-X vector counts), with what lspci cannot show stated
 * as assumptions: the IOMMU model and interrupt remapping (from flags),
 * each endpoint in a paging domain of its own with one host buffer mapped
 * — as a host with the IOMMU on gives its devices — each endpoint its own
 * principal, and ports whose ACS a non-root dump hides taken as having
 * none (the worst case). The attacker owns one endpoint.
 *
 * Built on the existing importer (src/import/lspci); the audit rework
 * (issue 12) may replace this with its own machine building.
 */
import { parseLspci } from '../import/lspci/parse.ts';
import { fabricFromLspci } from '../import/lspci/to-fabric.ts';
import { topologyFromLspci } from '../import/lspci/to-topology.ts';
import { Acs } from '../pcie/acs.ts';
import { formatRid, requesterId } from '../pcie/bdf.ts';
import type { FabricConfig, FunctionConfig } from '../fabric/topology.ts';
import { freeRam, windowsOf } from '../scenario/audit/spec.ts';

export type Pins = 'all' | 'bdf' | 'none';

export interface DumpOptions {
  /** CPUs of the machine (default 4): each takes ~200 device vectors (Linux: 0x21–0xEB). */
  readonly cpus?: number;
  readonly iommu: 'vtd' | 'amd-vi' | 'none';
  readonly interruptRemapping: boolean;
  readonly sourceIdValidation: boolean;
}

export interface DumpMachine {
  /** Endpoint ids, in the dump's order: each may be the attacker. */
  readonly endpoints: readonly string[];
  readonly assumptions: readonly string[];
  readonly skipped: readonly { readonly device: string; readonly reason: string }[];
  /**
   * The document with `attacker` as the attacker's principal (the owner of
   * that endpoint); `pins` keeps BDFs and BAR addresses as the dump shows
   * them (all), BDFs only, or neither (enumeration assigns them).
   */
  document(attacker: string, name: string, pins?: Pins): Record<string, unknown>;
}

const BUFFER_IOVA = 0x10000;
const BUFFER_SIZE = 0x2000;
const ENDPOINT_KINDS = new Set<FunctionConfig['kind']>(['endpoint', 'rciep', 'pci-device']);
const FLAGS = ['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT'] as const;

const TYPES: Record<FunctionConfig['kind'], string> = {
  'root-port': 'root-port',
  'switch-upstream': 'switch-upstream',
  'switch-downstream': 'switch-downstream',
  'pcie-pci-bridge': 'pcie-pci-bridge',
  // The scenario format has no conventional PCI-to-PCI bridge: written as a PCIe-to-PCI bridge (stated as an assumption).
  'pci-bridge': 'pcie-pci-bridge',
  'pci-device': 'pci-device',
  endpoint: 'endpoint',
  rciep: 'rciep',
};

/** A principal's name for an endpoint: "dev-03-00.0". */
export function principalOf(id: string): string {
  return `dev-${id.replace(/^0000:/, '').replace(/:/g, '-')}`;
}

export function dumpMachine(text: string, options: DumpOptions): DumpMachine {
  const dump = parseLspci(text);
  const { config, skipped } = fabricFromLspci(dump);
  const { topology, records } = topologyFromLspci(dump);
  const hidden = topology.functions.filter((f) => f.acs.kind === 'unknown' && (f.portType === 'root-port' || f.portType === 'downstream')).map((f) => f.key);
  const vectorsOf = (f: FunctionConfig): Interrupts => {
    const dev = records.get(f.id);
    const msix = dev?.msix?.count ?? 0;
    if (msix > 0 && (f.bars?.length ?? 0) > 0) return { msix: Math.min(msix, 8) };
    return dev?.msi !== undefined && f.kind !== 'root-port' && f.kind !== 'switch-downstream' ? { msi: 1 } : {};
  };
  return fabricMachine(config, skipped, options, vectorsOf, hidden);
}

/** MSI or MSI-X vectors of a function in the document. */
export type Interrupts = { readonly msi?: number; readonly msix?: number };

/**
 * A fabric (BDFs pinned) as a scenario document generator: each endpoint a
 * principal of its own in a paging domain with one buffer, the host owning
 * bridges and ports; `hidden` names ports whose ACS the source did not show.
 */
export function fabricMachine(config: FabricConfig, skipped: DumpMachine['skipped'], options: DumpOptions, vectorsOf: (f: FunctionConfig) => Interrupts, hidden: readonly string[] = []): DumpMachine {
  const endpoints = config.functions.filter((f) => ENDPOINT_KINDS.has(f.kind)).map((f) => f.id);
  const conventional = config.functions.filter((f) => f.kind === 'pci-bridge').map((f) => f.id);
  const ram = freeRam(config.functions.flatMap((f) => [...(f.bars ?? []).flatMap((b) => (b.at === undefined ? [] : [{ base: b.at, size: b.size }])), ...windowsOf(f)]));
  const buffer = new Map(endpoints.map((id, i) => [id, ram.base + i * BUFFER_SIZE]));

  const entryOf = (f: FunctionConfig, owner: string | null, pins: Pins): Record<string, unknown> => {
    return {
      id: f.id,
      ...(owner === null ? {} : { owner }),
      ...(f.bars && f.bars.length > 0 ? { bars: f.bars.map((b) => ({ size: b.size, ...(b.at === undefined || pins !== 'all' ? {} : { at: b.at }), ...(b.prefetch ? { prefetch: true } : {}), ...(b.bits === 64 ? { bits: 64 } : {}) })) } : {}),
      ...(f.acs === undefined ? {} : { acs: { cap: flags(f.acs.cap), ctl: flags(f.acs.ctl) } }),
      ...(f.ids === undefined ? {} : { ids: `${hex4(f.ids.vendor)}:${hex4(f.ids.device)}` }),
      ...vectorsOf(f),
    };
  };

  const ordinaryStep = (attacker: string): Record<string, unknown> => {
    const f = config.functions.find((x) => x.id === attacker)!;
    if (options.iommu !== 'none') return { at: '0ns', from: attacker, write: BUFFER_IOVA, data: 1, note: 'its own DMA buffer' };
    return (f.bars?.length ?? 0) > 0 ? { at: '0ns', from: attacker, read: { bar: `${attacker}.0`, offset: 0 }, note: 'its own BAR' } : { at: '0ns', from: attacker, write: buffer.get(attacker)!, data: 1, note: 'its own buffer' };
  };

  return {
    endpoints,
    skipped,
    assumptions: [
      `IOMMU ${options.iommu}${options.iommu === 'none' ? '' : ', DMA remapping on, each endpoint in a paging domain of its own with one 8 KiB host buffer at IOVA 0x10000'}`,
      `interrupt remapping ${options.interruptRemapping ? `on, source-ID validation ${options.sourceIdValidation ? 'on' : 'off (intremap=nosid)'}` : 'off'} (lspci does not show it; dmesg "DMAR-IR: Enabled IRQ remapping" does)`,
      'each endpoint belongs to a principal of its own; the host owns bridges, ports and the buffers',
      ...(hidden.length > 0 ? [`ACS of ${hidden.join(', ')} is hidden (lspci without root): taken as absent, the worst case`] : []),
      ...(conventional.length > 0 ? [`conventional PCI-to-PCI bridge(s) ${conventional.join(', ')} written as PCIe-to-PCI bridges (the scenario format has no other): devices behind alias to (secondary bus, 00.0), where Linux would use the bridge's own ID`] : []),
    ],
    document(attacker, name, pins = 'all') {
      const owners = new Map(endpoints.map((id) => [id, principalOf(id)]));
      // The functions of one device: same parent, bus and device number (a link carries one device).
      const slot = (f: FunctionConfig) => `${f.parent ?? ''}/${f.bdf!.bus}/${f.bdf!.device}`;
      const packages = new Map<string, FunctionConfig[]>();
      for (const f of config.functions) if (ENDPOINT_KINDS.has(f.kind)) packages.set(slot(f), [...(packages.get(slot(f)) ?? []), f]);
      const devices: Record<string, unknown>[] = [];
      const placed = new Set<string>();
      for (const f of config.functions) {
        if (placed.has(f.id)) continue;
        const base = { type: TYPES[f.kind], ...(f.parent === undefined ? {} : { parent: f.parent }), ...(pins === 'none' ? {} : { bdf: bdfText(f) }) };
        // Only endpoints, RCiEPs and conventional devices are modelled as multifunction; ports stay one entry each.
        const members = packages.get(slot(f)) ?? [f];
        if (members.length < 2 || !ENDPOINT_KINDS.has(f.kind)) {
          placed.add(f.id);
          devices.push({ ...entryOf(f, owners.get(f.id) ?? null, pins), ...base });
          continue;
        }
        for (const m of members) placed.add(m.id);
        devices.push({ id: `${f.id}-device`, ...base, functions: members.map((m) => ({ ...entryOf(m, owners.get(m.id) ?? null, pins), fn: m.bdf!.fn })) });
      }
      return {
        schema: 'tlplab/v1',
        name,
        title: `${name}: an imported machine, ${attacker} hostile`,
        summary: `Imported from an lspci dump. Assumed: ${this.assumptions.join('; ')}.`,
        sources: ['lspci -vvv'],
        machine: {
          cpus: options.cpus ?? 4,
          iommu: {
            model: options.iommu,
            ...(options.iommu === 'none' ? {} : { 'dma-remapping': 'on', 'interrupt-remapping': options.interruptRemapping ? 'on' : 'off', 'source-id-validation': options.sourceIdValidation ? 'on' : 'off' }),
          },
          memory: [{ name: 'host-ram', base: ram.base, size: Math.max(endpoints.length, 1) * BUFFER_SIZE, owner: 'host' }],
          devices,
        },
        domains: Object.fromEntries(
          options.iommu === 'none'
            ? []
            : endpoints.map((id) => [`dom-${principalOf(id).slice(4)}`, { devices: [id], map: [{ iova: BUFFER_IOVA, to: buffer.get(id)!, size: BUFFER_SIZE, perm: 'rw' }] }]),
        ),
        // A scenario's attack has a step (check-steps.ts): the hostile device's ordinary DMA into its own buffer, or a read of its own BAR.
        attack: { attacker: owners.get(attacker) ?? attacker, via: 'device', steps: [ordinaryStep(attacker)] },
        expect: [{ verdict: 'isolated', stopped: [] }],
      };
    },
  };
}

function flags(mask: number): string[] {
  return FLAGS.filter((f) => (mask & Acs[f]) !== 0);
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function bdfText(f: FunctionConfig): string {
  const b = f.bdf!;
  return formatRid(requesterId(b.bus, b.device, b.fn));
}

