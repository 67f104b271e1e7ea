/**
 * A built-in demonstration until the scenario runner lands: the reference
 * topology of DESIGN.md §5 (a NIC and an NVMe drive behind one switch), a
 * peer-to-peer write from the NIC into the NVMe drive's BAR, with the
 * downstream port's ACS P2P Request Redirect off and on.
 */
import { Kernel } from '../sim/kernel.ts';
import { acsMask } from '../pcie/acs.ts';
import { formatAddress } from '../pcie/range.ts';
import { compileFabric } from '../fabric/fabric.ts';
import { DEFAULT_FABRIC, type FunctionConfig } from '../fabric/topology.ts';

export interface DemoRow {
  readonly variant: string;
  readonly tlp: string;
  readonly outcome: string;
  readonly reason: string;
  readonly decidedAt: string;
  readonly timeNs: number;
}

function topology(dp0Ctl: number): FunctionConfig[] {
  const all = acsMask(['SV', 'TB', 'RR', 'CR', 'UF', 'EC', 'DT']);
  return [
    { id: 'rp0', kind: 'root-port', bdf: { bus: 0, device: 0x1c, fn: 0 }, acs: { cap: all, ctl: acsMask(['SV', 'RR', 'CR', 'UF']), egressVector: 0 } },
    { id: 'sw-up', kind: 'switch-upstream', parent: 'rp0' },
    { id: 'sw-dp0', kind: 'switch-downstream', parent: 'sw-up', acs: { cap: all, ctl: dp0Ctl, egressVector: 0 } },
    { id: 'sw-dp1', kind: 'switch-downstream', parent: 'sw-up', acs: { cap: all, ctl: acsMask(['SV']), egressVector: 0 } },
    { id: 'nic', kind: 'endpoint', parent: 'sw-dp0', bars: [{ size: 0x10000 }] },
    { id: 'nvme', kind: 'endpoint', parent: 'sw-dp1', bars: [{ size: 0x4000 }] },
  ];
}

export function runDemo(): DemoRow[] {
  const rows: DemoRow[] = [];
  for (const [variant, ctl] of [
    ['sw-dp0 ACS off', 0],
    ['sw-dp0 ACS SV|RR|CR|UF', acsMask(['SV', 'RR', 'CR', 'UF'])],
  ] as const) {
    const kernel = new Kernel();
    const fabric = compileFabric({ ...DEFAULT_FABRIC, functions: topology(ctl), memory: [{ name: 'host-ram', base: 0, size: 0x8000_0000 }] }, kernel);
    const target = fabric.fn('nvme').bars[0]!.base;
    const sends = [
      { what: `nic MemWr ${formatAddress(target)} (nvme.bar0)`, init: { type: 'MemWr' as const, address: target, data: 0xdead } },
      { what: 'nic MemWr 0x1000 (host-ram)', init: { type: 'MemWr' as const, address: 0x1000, data: 1 } },
      { what: 'nic MemWr as 07:00.0 (forged)', init: { type: 'MemWr' as const, address: 0x2000, requesterId: 0x0700 } },
    ];
    for (const { what, init } of sends) {
      const tlp = fabric.issue('nic', init);
      kernel.run();
      rows.push({ variant, tlp: what, outcome: tlp.outcome ?? 'in flight', reason: tlp.reason, decidedAt: tlp.decidedAt, timeNs: tlp.endedAt });
    }
  }
  return rows;
}
