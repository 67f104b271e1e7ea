/** The endings the fabric decides: deliveries, ACS blocks and routing's Unsupported Requests. */
import { defineReasons } from '../pcie/reasons.ts';

export const FABRIC_REASONS = defineReasons({
  'memory.write': { outcome: 'delivered', title: 'memory write reached host memory', source: 'root complex address decode' },
  'memory.read': { outcome: 'completed', title: 'memory read served from host memory', source: 'root complex address decode; PCIe 6.0 §2.2.9 completions' },
  'bar.write': { outcome: 'delivered', title: 'memory write claimed by a BAR', source: 'PCIe 6.0 §7.5.1.2 (BARs)' },
  'bar.read': { outcome: 'completed', title: 'memory read claimed by a BAR and answered', source: 'PCIe 6.0 §7.5.1.2 (BARs); §2.2.9' },
  'config.write': { outcome: 'delivered', title: 'configuration write reached its function', source: 'PCIe 6.0 §7.2' },
  'config.read': { outcome: 'completed', title: 'configuration read answered by its function', source: 'PCIe 6.0 §7.2' },
  'completion.delivered': { outcome: 'delivered', title: 'completion delivered to its requester', source: 'PCIe 6.0 §2.2.9' },
  'message.delivered': { outcome: 'delivered', title: 'message delivered', source: 'PCIe 6.0 §2.2.8' },
  'acs.source-validation': { outcome: 'blocked', title: 'ACS Source Validation: requester bus outside the port\'s secondary..subordinate range', source: 'PCIe 6.3 §6.12.1.1 (ACS Source Validation)' },
  'acs.translation-blocking': { outcome: 'blocked', title: 'ACS Translation Blocking: AT=translated request from below', source: 'PCIe 6.3 §6.12.1.1 (ACS Translation Blocking)' },
  'acs.egress-control': { outcome: 'blocked', title: 'ACS P2P Egress Control: the egress vector bit of the target is set and RR is clear (an ACS Violation)', source: 'PCIe 6.3 §6.12.3 Table 6-11, §7.7.11.4 (Egress Control Vector)' },
  'acs.memory-target': { outcome: 'blocked', title: 'ACS DSP/USP Memory Target Access 01b: a request to a port\'s own BAR is an ACS Violation', source: 'PCIe 6.3 §6.12.1.1, §6.12.4 (ACS Enhanced)' },
  'acs.io-request-blocking': { outcome: 'blocked', title: 'ACS I/O Request Blocking: an upstream I/O request is an ACS Violation', source: 'PCIe 6.3 §6.12.1.1, §6.12.4 (ACS Enhanced)' },
  'route.no-target': { outcome: 'unsupported-request', title: 'no memory, BAR or port claims the address', source: 'PCIe 6.0 §2.3.1 (Unsupported Request); root complex master abort' },
  'route.no-function': { outcome: 'unsupported-request', title: 'no function has the target ID', source: 'PCIe 6.0 §2.3.1 (Unsupported Request)' },
  'route.no-bar': { outcome: 'unsupported-request', title: 'no BAR of the receiving device claims the address', source: 'PCIe 6.0 §2.3.1 (Unsupported Request)' },
  'route.no-device': { outcome: 'unsupported-request', title: 'no device is attached below the port', source: 'PCIe 6.0 §2.3.1 (Unsupported Request)' },
  'route.no-link': { outcome: 'unsupported-request', title: 'the issuing function has no upstream link', source: 'PCIe 6.0 §2.3.1' },
  'route.config-from-below': { outcome: 'unsupported-request', title: 'configuration request from below (only the root complex issues them)', source: 'PCIe 6.0 §7.3.3' },
  'route.unexpected-completion': { outcome: 'unsupported-request', title: 'completion matching no outstanding request of the receiver', source: 'PCIe 6.0 §2.3.2 (Unexpected Completion)' },
  'link.down': { outcome: 'blocked', title: 'the device is not on the fabric: its link is down (unplugged, or not yet hot-plugged)', source: 'PCIe 6.0 §2.9.1 (DL_Down: TLPs are discarded), §6.7 (hot-plug)' },
  'device.bus-master-off': { outcome: 'blocked', title: 'Bus Master Enable is clear: the function may not issue memory requests (MSI included)', source: 'PCIe 6.0 §7.5.1.1.3 (Command register); Linux vfio_pci_core_disable (pci_clear_master)' },
  'device.reset': { outcome: 'blocked', title: 'the function was reset after the principal programmed it: nothing it set up survives to issue this request', source: 'PCIe 6.0 §6.6.2 (FLR), §6.6.1 (hot reset); Linux pci_reset_function, __pci_reset_function_locked' },
  'route.loop': { outcome: 'unsupported-request', title: 'more hops than any topology needs: a routing loop', source: 'tlplab invariant (a tree topology routes every TLP in bounded hops)' },
});
