/**
 * Parses `lspci -v`, `-vv`, `-vvv`, `-nn`, `-PP` and `-x` output (pciutils
 * 3.x spellings, old and new) into one record per function. Reads only what
 * the isolation model needs; everything else is skipped. Errors name the line.
 */
import type { Bdf } from '../../pcie/bdf.ts';
import { Acs } from '../../pcie/acs.ts';
import type { PciePortType } from '../../policy/pci-topology.ts';
import { HEADER, splitDump, type DumpLine, type HexLine, type LogicalLine } from './lines.ts';

export interface LspciBar {
  readonly index: number;
  readonly kind: 'memory' | 'io';
  /** Bus address; undefined when unassigned. */
  readonly address?: number;
  readonly size?: number;
  readonly bits?: 32 | 64;
  readonly prefetch: boolean;
  readonly disabled: boolean;
}

export interface LspciWindow {
  readonly base: number;
  readonly limit: number;
}

export interface LspciDevice {
  /** Line of the device header. */
  readonly line: number;
  readonly bdf: Bdf;
  /** -PP: the BDFs of the bridges above, outermost first. */
  readonly path: readonly Bdf[];
  readonly className: string;
  /** [0604] after the class name (-nn), or byte 0x0a..0x0b of a -x dump. */
  classCode?: number;
  /** Vendor and device text as printed, without [ids], (rev) and (prog-if). */
  readonly description: string;
  ids?: { vendor: number; device: number };
  /** Header type byte from a -x dump (bit 7 = multifunction). */
  headerType?: number;
  iommuGroup?: number;
  /** Capabilities were listed ([xx] lines) — a root dump for this function. */
  capabilitiesListed: boolean;
  /** `Capabilities: <access denied>`. */
  capabilitiesDenied: boolean;
  express?: { type: PciePortType; line: number };
  acs?: { capabilityLine: number; cap?: number; ctl?: number };
  bus?: { primary: number; secondary: number; subordinate: number };
  windows: { memory?: LspciWindow | null; prefetchable?: LspciWindow | null };
  bars: LspciBar[];
  msi?: { enabled: boolean; count: number; bits64: boolean; maskable: boolean };
  msix?: { enabled: boolean; count: number };
  driver?: string;
}

export class LspciParseError extends Error {
  readonly userFacing = true;
  constructor(
    readonly code: string,
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'LspciParseError';
  }
}

export interface LspciDump {
  readonly devices: readonly LspciDevice[];
}

export function parseLspci(text: string): LspciDump {
  const devices = new Map<string, LspciDevice>();
  let current: LspciDevice | undefined;
  let firstHeaderSeen = false;
  for (const entry of splitDump(text)) {
    if (entry.kind === 'blank') continue;
    if (entry.kind === 'hex') {
      if (current) readHex(current, entry);
      continue;
    }
    const header = entry.indent === 0 ? parseHeader(entry) : undefined;
    if (header) {
      firstHeaderSeen = true;
      const key = bdfKey(header.bdf);
      const seen = devices.get(key);
      if (seen) {
        // `lspci -vvv` followed by `lspci -x` of the same device: one function, printed twice.
        if (seen.description !== header.description) {
          throw new LspciParseError('DUPLICATE_DEVICE', entry.line, `${key} appears again with a different description (first at line ${seen.line})`);
        }
        current = seen;
      } else {
        devices.set(key, header);
        current = header;
      }
      continue;
    }
    if (current) readField(current, entry);
  }
  if (!firstHeaderSeen) {
    throw new LspciParseError('NO_DEVICES', 1, "no lspci device header found (expected 'BB:DD.F Class: Description' at the start of a line, e.g. '00:1c.0 PCI bridge: ...')");
  }
  return { devices: [...devices.values()] };
}

function bdfKey(b: Bdf): string {
  return `${b.domain}:${b.bus}:${b.device}.${b.fn}`;
}

function parseHeader(entry: LogicalLine): LspciDevice | undefined {
  const m = HEADER.exec(entry.text);
  if (!m) return undefined;
  const rest = m[6]!;
  const colon = rest.indexOf(': ');
  if (colon < 0) return undefined;
  const domain = m[1] === undefined ? 0 : parseInt(m[1], 16);
  const bdf: Bdf = { domain, bus: parseInt(m[2]!, 16), device: parseInt(m[3]!, 16), fn: parseInt(m[4]!, 10) };
  if (bdf.device > 0x1f) throw new LspciParseError('BAD_BDF', entry.line, `device number ${m[3]} is above 1f`);
  const path = (m[5] ?? '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      const [bus, devfn] = p.split(':');
      const [dev, fn] = devfn!.split('.');
      return { domain, bus: parseInt(bus!, 16), device: parseInt(dev!, 16), fn: parseInt(fn!, 10) };
    });
  // -PP prints the whole path; the function itself is the last element.
  const self = path.length > 0 ? path[path.length - 1]! : bdf;
  const above = path.length > 0 ? [bdf, ...path.slice(0, -1)] : [];
  let klass = rest.slice(0, colon);
  let classCode: number | undefined;
  const classId = /^(.*?)\s*\[([0-9a-fA-F]{4})\]$/.exec(klass);
  if (classId) {
    klass = classId[1]!;
    classCode = parseInt(classId[2]!, 16);
  }
  let description = rest.slice(colon + 2);
  description = description.replace(/\s*\(prog-if [^)]*\)?\)?\s*$/, '').replace(/\s*\(rev [0-9a-fA-F]+\)\s*$/, '');
  let ids: { vendor: number; device: number } | undefined;
  const idMatch = /\s*\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]\s*$/.exec(description);
  if (idMatch) {
    ids = { vendor: parseInt(idMatch[1]!, 16), device: parseInt(idMatch[2]!, 16) };
    description = description.slice(0, idMatch.index);
  }
  return {
    line: entry.line,
    bdf: self,
    path: above,
    className: klass,
    ...(classCode !== undefined ? { classCode } : {}),
    description: description.trim(),
    ...(ids ? { ids } : {}),
    capabilitiesListed: false,
    capabilitiesDenied: false,
    windows: {},
    bars: [],
  };
}

/** Offset 00 of a config-space dump: vendor, device, class, header type (PCI Local Bus 3.0 §6.1). */
function readHex(dev: LspciDevice, hex: HexLine): void {
  if (hex.offset !== 0 || hex.bytes.length < 16) return;
  const b = hex.bytes;
  dev.ids ??= { vendor: b[0]! | (b[1]! << 8), device: b[2]! | (b[3]! << 8) };
  dev.classCode ??= b[10]! | (b[11]! << 8);
  dev.headerType = b[14]!;
}

const EXPRESS_TYPES: readonly (readonly [RegExp, PciePortType])[] = [
  [/^Root Complex Integrated Endpoint/, 'rciep'],
  [/^Root Complex Event Collector/, 'rc-event-collector'],
  [/^Legacy Endpoint/, 'legacy-endpoint'],
  [/^Endpoint/, 'endpoint'],
  [/^Root Port/, 'root-port'],
  [/^Upstream Port/, 'upstream'],
  [/^Downstream Port/, 'downstream'],
  [/^PCI-Express to PCI\/PCI-X Bridge/, 'pcie-pci-bridge'],
  [/^PCI\/PCI-X to PCI-Express Bridge/, 'pci-pcie-bridge'],
];

const ACS_NAMES: readonly (readonly [string, number])[] = [
  ['SrcValid', Acs.SV],
  ['TransBlk', Acs.TB],
  ['ReqRedir', Acs.RR],
  ['CmpltRedir', Acs.CR],
  ['UpstreamFwd', Acs.UF],
  ['EgressCtrl', Acs.EC],
  ['DirectTrans', Acs.DT],
];

/** "SrcValid+ TransBlk- ..." → mask, or undefined unless all seven flags are present. */
function acsMaskOf(text: string): number | undefined {
  let mask = 0;
  for (const [name, bit] of ACS_NAMES) {
    const m = new RegExp(`${name}([+-])`).exec(text);
    if (!m) return undefined;
    if (m[1] === '+') mask |= bit;
  }
  return mask;
}

function parseSize(text: string): number | undefined {
  const m = /\[size=(\d+)([KMGT]?)\]/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * unit;
}

function parseWindow(text: string): LspciWindow | null {
  const m = /^([0-9a-fA-F]+)-([0-9a-fA-F]+)/.exec(text.trim());
  if (!m || /\[disabled\]/.test(text)) return null;
  const base = parseInt(m[1]!, 16);
  const limit = parseInt(m[2]!, 16);
  return limit >= base ? { base, limit } : null;
}

function readBar(dev: LspciDevice, index: number | undefined, text: string): void {
  const memory = /^Memory at (\S+)\s*(?:\((32|64)-bit, (non-)?prefetchable\))?/.exec(text);
  const io = /^I\/O ports at (\S+)/.exec(text);
  if (!memory && !io) return;
  const at = (memory ?? io)![1]!;
  const address = /^[0-9a-fA-F]+$/.test(at) ? parseInt(at, 16) : undefined;
  const size = parseSize(text);
  const bits = memory?.[2] === '64' ? 64 : memory?.[2] === '32' ? 32 : undefined;
  const previous = dev.bars[dev.bars.length - 1];
  const nextIndex = previous === undefined ? 0 : previous.index + (previous.bits === 64 ? 2 : 1);
  dev.bars.push({
    index: index ?? nextIndex,
    kind: memory ? 'memory' : 'io',
    ...(address !== undefined ? { address } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(bits !== undefined ? { bits } : {}),
    prefetch: memory !== null && memory[3] === undefined && memory[2] !== undefined,
    disabled: /\[disabled\]/.test(text),
  });
}

function readField(dev: LspciDevice, entry: LogicalLine): void {
  const t = entry.text;
  let m: RegExpExecArray | null;
  if ((m = /^IOMMU group:\s*(\d+)/.exec(t))) dev.iommuGroup = Number(m[1]);
  else if (/^Flags:/.test(t) && (m = /IOMMU group (\d+)/.exec(t))) dev.iommuGroup = Number(m[1]);
  else if ((m = /^Bus: primary=([0-9a-fA-F]{2}), secondary=([0-9a-fA-F]{2}), subordinate=([0-9a-fA-F]{2})/.exec(t))) {
    dev.bus = { primary: parseInt(m[1]!, 16), secondary: parseInt(m[2]!, 16), subordinate: parseInt(m[3]!, 16) };
  } else if (/^Bus: /.test(t)) throw new LspciParseError('BAD_BUS_LINE', entry.line, `cannot read bus numbers from '${t}' (expected 'Bus: primary=00, secondary=01, subordinate=01')`);
  else if ((m = /^Memory behind bridge:\s*(.*)$/.exec(t))) dev.windows.memory = parseWindow(m[1]!);
  else if ((m = /^Prefetchable memory behind bridge:\s*(.*)$/.exec(t))) dev.windows.prefetchable = parseWindow(m[1]!);
  else if ((m = /^Region (\d):\s*(.*)$/.exec(t))) readBar(dev, Number(m[1]), m[2]!);
  else if (/^(Memory at|I\/O ports at) /.test(t)) readBar(dev, undefined, t);
  else if (/^Capabilities:\s*<access denied>/.test(t)) dev.capabilitiesDenied = true;
  else if ((m = /^Capabilities:\s*\[[0-9a-fA-F]+(?: v\d+)?\]\s*(.*)$/.exec(t))) readCapability(dev, m[1]!, entry.line);
  else if (/^ACSCap:/.test(t) && dev.acs) {
    const cap = acsMaskOf(t);
    if (cap !== undefined) dev.acs.cap = cap;
  } else if (/^ACSCtl:/.test(t) && dev.acs) {
    const ctl = acsMaskOf(t);
    if (ctl !== undefined) dev.acs.ctl = ctl;
  } else if ((m = /^Kernel driver in use:\s*(\S+)/.exec(t))) dev.driver = m[1]!;
}

function readCapability(dev: LspciDevice, text: string, line: number): void {
  dev.capabilitiesListed = true;
  let m: RegExpExecArray | null;
  if ((m = /^Express (?:\(v\d\) )?(.*)$/.exec(text))) {
    const type = EXPRESS_TYPES.find(([re]) => re.test(m![1]!))?.[1];
    if (!type) throw new LspciParseError('BAD_EXPRESS_TYPE', line, `unknown PCI Express device/port type in '${text}'`);
    dev.express = { type, line };
  } else if (/^Access Control Services/.test(text)) dev.acs = { capabilityLine: line };
  else if ((m = /^MSI: Enable([+-]) Count=\d+\/(\d+) Maskable([+-]) 64bit([+-])/.exec(text))) {
    dev.msi = { enabled: m[1] === '+', count: Number(m[2]), maskable: m[3] === '+', bits64: m[4] === '+' };
  } else if ((m = /^MSI-X: Enable([+-]) Count=(\d+)/.exec(text))) dev.msix = { enabled: m[1] === '+', count: Number(m[2]) };
}

export type { DumpLine };
