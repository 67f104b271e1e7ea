/** Facts a dump may not contain: ACS and port type behind `<access denied>`. */
import type { PciFunction } from './pci-topology.ts';

/** The answer depends on something the input does not say (e.g. ACS behind `<access denied>`). */
export class UnknownFact extends Error {
  readonly code = 'UNKNOWN_FACT';
  constructor(
    /** Key of the function whose fact is missing. */
    readonly subject: string,
    readonly what: string,
  ) {
    super(`${subject}: ${what} is unknown`);
    this.name = 'UnknownFact';
  }
}

export function requirePortType(fn: PciFunction): void {
  if (fn.portType === 'unknown') throw new UnknownFact(fn.key, 'the PCIe port type');
}
