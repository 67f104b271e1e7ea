import { describe, expect, it } from 'vitest';
import { BdfParseError, formatBdf, formatRid, parseBdf, requesterId } from '../../src/pcie/bdf.ts';

describe('BDF parsing (PCIe 6.0 §2.2.6.2 requester ID; lspci domain notation)', () => {
  it.each([
    ['03:00.1', { domain: 0, bus: 3, device: 0, fn: 1 }],
    ['0000:03:00.1', { domain: 0, bus: 3, device: 0, fn: 1 }],
    ['10000:e1:00.0', { domain: 0x10000, bus: 0xe1, device: 0, fn: 0 }],
    ['0001:ff:1f.7', { domain: 1, bus: 0xff, device: 0x1f, fn: 7 }],
    ['  00:1c.4 ', { domain: 0, bus: 0, device: 0x1c, fn: 4 }],
    ['0:1.0', { domain: 0, bus: 0, device: 1, fn: 0 }],
  ])('parses %s', (text, bdf) => expect(parseBdf(text)).toEqual(bdf));

  it.each([
    ['03:00.8', 'function above 7'],
    ['03:20.0', 'device above 1f'],
    ['000:03:00.0', 'three-digit domain'],
    ['100000:03:00.0', 'six-digit domain'],
    ['0x03:00.0', 'hex prefix'],
    ['03-00.0', 'wrong separator'],
  ])('rejects %s (%s)', (text) => expect(() => parseBdf(text)).toThrowError(BdfParseError));

  it('packs bus[15:8] device[7:3] function[2:0]', () => {
    expect(requesterId(0x03, 0x1f, 7)).toBe(0x03ff);
    expect(formatRid(0x0301)).toBe('03:00.1');
  });

  it('formats domains with at least four digits, as sysfs does', () => {
    expect(formatBdf({ domain: 0, bus: 0, device: 0x1c, fn: 0 })).toBe('0000:00:1c.0');
    expect(formatBdf({ domain: 0x10000, bus: 0xe1, device: 0, fn: 0 })).toBe('10000:e1:00.0');
  });
});
