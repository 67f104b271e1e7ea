/**
 * Bus/device/function addressing. A requester ID is the 16-bit
 * bus[15:8] | device[7:3] | function[2:0] carried in every request
 * (PCIe Base 6.0 §2.2.6.2). The PCI segment (domain) is not on the wire;
 * lspci prints it as 4 hex digits, or 5 for VMD's synthetic domains
 * (0x10000 and up, drivers/pci/controller/vmd.c).
 */

export type RequesterId = number;

export interface Bdf {
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
}

export function requesterId(bus: number, device: number, fn: number): RequesterId {
  return ((bus & 0xff) << 8) | ((device & 0x1f) << 3) | (fn & 0x7);
}

export function busOf(rid: RequesterId): number {
  return (rid >> 8) & 0xff;
}

export function bdfOf(rid: RequesterId, domain = 0): Bdf {
  return { domain, bus: busOf(rid), device: (rid >> 3) & 0x1f, fn: rid & 0x7 };
}

export function ridOf(bdf: Bdf): RequesterId {
  return requesterId(bdf.bus, bdf.device, bdf.fn);
}

const BDF_PATTERN = /^(?:([0-9a-fA-F]{4,5}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

export class BdfParseError extends Error {
  readonly code = 'BDF_INVALID';
  constructor(readonly text: string, detail: string) {
    super(`invalid BDF '${text}': ${detail} (expected BB:DD.F or DDDD:BB:DD.F, e.g. 03:00.1 or 0000:03:00.1)`);
    this.name = 'BdfParseError';
  }
}

/** Parses "03:00.1", "0000:03:00.1" or "10000:e1:00.0"; throws BdfParseError. */
export function parseBdf(text: string): Bdf {
  const match = BDF_PATTERN.exec(text.trim());
  if (!match) throw new BdfParseError(text, 'not in BDF form');
  const device = parseInt(match[3]!, 16);
  if (device > 0x1f) throw new BdfParseError(text, `device ${match[3]} is above 1f`);
  return {
    domain: match[1] === undefined ? 0 : parseInt(match[1], 16),
    bus: parseInt(match[2]!, 16),
    device,
    fn: parseInt(match[4]!, 10),
  };
}

/** Like parseBdf but returns undefined instead of throwing. */
export function tryParseBdf(text: string): Bdf | undefined {
  try {
    return parseBdf(text);
  } catch {
    return undefined;
  }
}

const hex = (value: number, width: number) => value.toString(16).padStart(width, '0');

/** "03:00.1" */
export function formatRid(rid: RequesterId): string {
  return `${hex(busOf(rid), 2)}:${hex((rid >> 3) & 0x1f, 2)}.${rid & 7}`;
}

/** "0000:03:00.1" (5 digits for VMD domains), as in /sys/kernel/iommu_groups. */
export function formatBdf(bdf: Bdf): string {
  return `${hex(bdf.domain, 4)}:${formatRid(ridOf(bdf))}`;
}
