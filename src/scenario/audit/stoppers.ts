/**
 * What would stop a successful attack, read from the hop that let it
 * through (its decision and rule) and the machine's facts:
 * - a peer-to-peer write routed straight to the victim at a port or inside
 *   a multifunction device: ACS P2P Request Redirect there (PCIe 6.0
 *   §6.12.1.1, §6.12.1.2), or nothing on a conventional PCI bus (PCI Local
 *   Bus 3.0 §3.2);
 * - a TLP reflected back down a port: ACS Upstream Forwarding there;
 * - peer-to-peer through the root complex: DMA remapping;
 * - a forged requester ID: ACS Source Validation at a port whose bus range
 *   excludes the forged bus — or nothing, when the forged ID lies on the
 *   attacker's own buses (SV compares the bus number only);
 * - a forged MSI: interrupt remapping (VT-d 5.1.4: compatibility format
 *   blocked, remappable format checked by source ID).
 * pcie_acs_override never appears: it changes Linux's groups, not routing.
 */
import { Acs } from '../../pcie/acs.ts';
import { busOf } from '../../pcie/bdf.ts';
import { RULES } from '../../fabric/acs-rules.ts';
import { ROUTE } from '../../fabric/routing-rules.ts';
import { isDownstreamPortKind, type FunctionConfig } from '../../fabric/topology.ts';
import type { Attempt } from './attempts.ts';
import type { AuditAttack, Stopper } from './report.ts';
import type { AuditSettings } from './spec.ts';

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

function acsStopper(fn: FunctionConfig | undefined, at: string, bit: 'RR' | 'SV' | 'UF', why: string): Stopper {
  const mask = Acs[bit];
  const verb = { RR: 'P2P Request Redirect', SV: 'Source Validation', UF: 'Upstream Forwarding' }[bit];
  const state =
    fn?.acs === undefined
      ? `${at} has no ACS capability (a device with one, or a Linux quirk that vouches for it, is needed)`
      : (fn.acs.cap & mask) === 0
        ? `${at}'s ACS capability does not implement ${bit}`
        : `${at} implements ${bit} but has it off (ACSCtl ${bit}-)`;
  return { kind: 'acs', at, bits: [bit], text: `ACS ${bit} (${verb}) on ${at} ${why}; now ${state}` };
}

export function stoppersFor(attack: AuditAttack, attempt: Attempt, functions: ReadonlyMap<string, FunctionConfig>, settings: AuditSettings, victim: string | null): Stopper[] {
  const path = attempt.story.path;
  const fnOf = (node: string) => functions.get(node.replace(/\*$/, ''));
  switch (attack) {
    case 'p2p-bar-write': {
      const direct = path.find((p) => p.decision === 'p2p-direct');
      if (direct !== undefined) {
        if (direct.rule === ROUTE.pciSharedBus) {
          return [{ kind: 'topology', at: direct.device, bits: [], text: `nothing in the fabric: ${direct.device} and ${victim} share a conventional PCI bus, where the target claims the write before any bridge sees it (PCI Local Bus 3.0 §3.2); only separate bridges would part them` }];
        }
        const node = fnOf(direct.device);
        const at = node !== undefined && isDownstreamPortKind(node.kind) ? direct.device.replace(/\*$/, '') : attempt.step.from;
        return [acsStopper(functions.get(at), at, 'RR', 'would redirect the write upstream to the IOMMU, which has no mapping for a BAR address')];
      }
      const reflected = path.find((p) => p.decision === 'reflect-down');
      if (reflected !== undefined) return [acsStopper(fnOf(reflected.device), reflected.device, 'UF', 'would forward the redirected write upstream instead of back down')];
      if (path.some((p) => p.rule === ROUTE.rootP2p)) {
        return [{ kind: 'iommu', at: null, bits: [], text: 'DMA remapping with the attacker in a paging domain: the root complex routes BAR addresses peer to peer only when the IOMMU passes them untranslated' }];
      }
      return [];
    }
    case 'forged-requester-id': {
      const forgedBus = busOf(attempt.step.as ?? 0);
      const stoppers: Stopper[] = [];
      for (let fn = functions.get(attempt.step.from); fn?.parent !== undefined; ) {
        const port = functions.get(fn.parent);
        if (port === undefined) break;
        if (isDownstreamPortKind(port.kind) && port.buses && (forgedBus < port.buses.secondary || forgedBus > port.buses.subordinate)) {
          stoppers.push(acsStopper(port, port.id, 'SV', `would block it: the forged bus ${hex2(forgedBus)} lies outside ${hex2(port.buses.secondary)}..${hex2(port.buses.subordinate)} (${RULES.sv})`));
        }
        fn = port;
      }
      if (stoppers.length > 0) return stoppers;
      return [{ kind: 'none', at: null, bits: [], text: `no fabric feature: the forged bus ${hex2(forgedBus)} lies within the bus range of every port above ${attempt.step.from}, and Source Validation compares the bus number only (PCIe 6.0 §6.12.1.1); the IOMMU trusts the requester ID it is given` }];
    }
    case 'msi-injection':
      if (settings.iommu === 'none') return [{ kind: 'iommu', at: null, bits: [], text: 'an IOMMU with interrupt remapping (VT-d or AMD-Vi): without one, a DMA write to 0xFEEx_xxxx is an interrupt' }];
      return [
        { kind: 'interrupt-remapping', at: null, bits: [], text: 'interrupt remapping on: compatibility-format MSIs are then blocked with fault 0x25 (VT-d 5.1.4, x2APIC or CFI clear) and remappable ones checked by source ID' },
        { kind: 'kernel-option', at: null, bits: [], text: 'boot without intremap=off (and with VT-d interrupt remapping enabled in firmware; dmesg says "DMAR-IR: Enabled IRQ remapping")' },
      ];
  }
}
