/**
 * Whose intent a device carries out, over a hand-over (DESIGN.md §3; Xen
 * XSA-302). A device's DMA engines run what its holder programmed; taking
 * the device away does not stop them. Control passes on only when the
 * device is told to stop or forgets:
 *  - `assign` to P: P programs it from now on (Linux vfio_pci_core_enable
 *    resets it first, pci_try_reset_function; Xen assign_device);
 *  - `release`: the owner changes, the programming stays — in-flight and
 *    still-running DMA acts for the releaser until Bus Master Enable is
 *    cleared (PCIe 6.0 §7.5.1.1.3: the function may then issue no memory
 *    requests, MSI included; Linux vfio_pci_core_disable, pci_clear_master)
 *    or the function is reset (§6.6.2 FLR, §6.6.1 hot reset: its internal
 *    state is lost; Linux pci_reset_function);
 *  - a reset with no reset method (pci_reset_function returns -ENOTTY)
 *    changes nothing.
 * A scenario's device steps are attempts by whoever controls the device;
 * once it is quiet, the attempt is refused at the device for the
 * principal whose programming was stopped, so the stop is evidence against
 * that principal's attack.
 */
import type { Principal } from './ownership.ts';

export type QuietReason = 'device.bus-master-off' | 'device.reset';

interface FunctionControl {
  /** Whose programming the device runs; null after a reset until someone programs it again. */
  programmer: Principal | null;
  /** The last principal that programmed it (who a refused attempt is attributed to). */
  last: Principal | null;
  quiet: { readonly reason: QuietReason; readonly rule: string; readonly since: number } | null;
}

export interface Refusal {
  readonly principal: Principal | null;
  readonly reason: QuietReason;
  readonly rule: string;
}

export class DeviceControl {
  private readonly functions = new Map<string, FunctionControl>();

  constructor(owners: ReadonlyMap<string, Principal>) {
    for (const [id, owner] of owners) this.functions.set(id, { programmer: owner, last: owner, quiet: null });
  }

  /** The principal the function's TLPs act for now (its programmer; after a reset, null: its owner decides). */
  actor(id: string): Principal | null {
    return this.of(id).programmer;
  }

  /** The last principal that programmed the function (its programmer, or the one a reset wiped out). */
  lastProgrammer(id: string): Principal | null {
    const c = this.of(id);
    return c.programmer ?? c.last;
  }

  /** The attempt a quiet device refuses, or null when it issues. */
  refusal(id: string): Refusal | null {
    const c = this.of(id);
    if (c.quiet === null) return null;
    return { principal: c.last, reason: c.quiet.reason, rule: c.quiet.rule };
  }

  /** P programs the device from now on. */
  assign(id: string, to: Principal): void {
    const c = this.of(id);
    c.programmer = to;
    c.last = to;
    c.quiet = null;
  }

  /** Bus Master Enable cleared: a compliant function issues no memory request (its programming stays). */
  busMasterOff(id: string, time: number, rule: string): void {
    const c = this.of(id);
    if (c.quiet === null) c.quiet = { reason: 'device.bus-master-off', rule, since: time };
  }

  /** The function was reset: what it was programmed to do is gone. */
  reset(id: string, time: number, rule: string): void {
    const c = this.of(id);
    if (c.programmer !== null) c.last = c.programmer;
    c.programmer = null;
    c.quiet = { reason: 'device.reset', rule, since: time };
  }

  private of(id: string): FunctionControl {
    let c = this.functions.get(id);
    if (c === undefined) {
      c = { programmer: null, last: null, quiet: null };
      this.functions.set(id, c);
    }
    return c;
  }
}
