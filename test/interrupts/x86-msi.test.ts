/** x86 MSI address/data decode: compatibility (SDM Vol. 3A §11.11) and remappable (VT-d §5.1.2.2, §5.1.3). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  composeCompat,
  composeRemappable,
  decodeCompat,
  decodeRemappable,
  inMsiWindow,
  isRemappable,
  newAttributes,
  newRemappableRequest,
} from '../../src/interrupts/x86-msi.ts';

describe('compatibility format (SDM §11.11.1 address: dest 19:12, RH 3, DM 2; §11.11.2 data: vector 7:0, mode 10:8, level 14, trigger 15)', () => {
  it.each([
    { source: 'SDM §11.11: physical, fixed, edge', address: 0xfee0_0000, data: 0x0030, want: { destination: 0, destinationMode: 'physical', redirectionHint: false, vector: 0x30, deliveryMode: 0, trigger: 'edge', assert: false } },
    { source: 'SDM §11.11.1: dest 3, RH=1, DM=1 (logical)', address: 0xfee0_300c, data: 0x0131, want: { destination: 3, destinationMode: 'logical', redirectionHint: true, vector: 0x31, deliveryMode: 1 } },
    { source: 'SDM §11.11.2: level-triggered assert', address: 0xfee0_1000, data: 0xc041, want: { destination: 1, vector: 0x41, trigger: 'level', assert: true } },
    { source: 'SDM §11.11.1: broadcast dest 0xFF, NMI (100b)', address: 0xfeef_f000, data: 0x0400, want: { destination: 0xff, deliveryMode: 4 } },
    { source: 'SDM §11.11.2: SMI (010b)', address: 0xfee0_0000, data: 0x0200, want: { deliveryMode: 2 } },
    { source: 'SDM §11.11.2: INIT (101b)', address: 0xfee0_0000, data: 0x0500, want: { deliveryMode: 5 } },
    { source: 'SDM §11.11.2: ExtINT (111b)', address: 0xfee0_0000, data: 0x0700, want: { deliveryMode: 7 } },
    { source: 'SDM §11.11.1: bits 11:4 and 1:0 do not change the decode', address: 0xfee0_2ff3, data: 0x0022, want: { destination: 2, vector: 0x22, redirectionHint: false, destinationMode: 'physical' } },
  ])('$source', ({ address, data, want }) => {
    expect(decodeCompat(address, data, newAttributes())).toMatchObject(want);
  });

  it('composeCompat inverts decodeCompat (SDM §11.11)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 7 }), (destination, vector, logical, level, mode) => {
        const msg = composeCompat({ destination, vector, destinationMode: logical ? 'logical' : 'physical', trigger: level ? 'level' : 'edge', deliveryMode: mode });
        expect(inMsiWindow(msg.address)).toBe(true);
        expect(isRemappable(msg.address)).toBe(false);
        expect(decodeCompat(msg.address, msg.data, newAttributes())).toMatchObject({ destination, vector, deliveryMode: mode, trigger: level ? 'level' : 'edge' });
      }),
    );
  });
});

describe('remappable format (VT-d §5.1.2.2: handle[14:0] = address 19:5, handle[15] = bit 2, SHV = bit 3, format = bit 4; §5.1.3 index)', () => {
  it.each([
    { source: 'VT-d §5.1.2.2: handle 4, SHV=1, subhandle 0 (Linux fill_msi_msg)', address: 0xfee0_0098, data: 0, want: { handle: 4, shv: true, subhandle: 0, index: 4, reservedSet: false } },
    { source: 'VT-d §5.1.2.2: handle[14:0] all ones', address: 0xfeef_fff0, data: 0, want: { handle: 0x7fff, shv: false, index: 0x7fff } },
    { source: 'VT-d §5.1.2.2: handle[15] from address bit 2', address: 0xfee0_0014, data: 0, want: { handle: 0x8000, index: 0x8000 } },
    { source: 'VT-d §5.1.3: index = handle + subhandle when SHV=1', address: 0xfee0_0218, data: 3, want: { handle: 0x10, shv: true, subhandle: 3, index: 0x13 } },
    { source: 'VT-d §5.1.3: index = handle when SHV=0 (data ignored)', address: 0xfee0_00b0, data: 7, want: { handle: 5, shv: false, index: 5 } },
    { source: 'VT-d §5.1.2.2: data bits 31:16 are reserved', address: 0xfee0_0098, data: 0x1_0000, want: { reservedSet: true } },
    { source: 'VT-d §5.1.3: handle 0xFFFF + subhandle 1 is 0x10000, not wrapped', address: 0xfeef_fffc, data: 1, want: { handle: 0xffff, index: 0x10000 } },
  ])('$source', ({ address, data, want }) => {
    expect(isRemappable(address)).toBe(true);
    expect(decodeRemappable(address, data, newRemappableRequest())).toMatchObject(want);
  });

  it('composeRemappable and decodeRemappable agree on every handle and subhandle (VT-d §5.1.2.2)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (handle, subhandle, shv) => {
        const msg = composeRemappable(handle, subhandle, shv);
        const req = decodeRemappable(msg.address, msg.data, newRemappableRequest());
        expect(req).toMatchObject({ handle, shv, index: shv ? handle + subhandle : handle, reservedSet: false });
        expect(msg.address >>> 20).toBe(0xfee);
      }),
    );
  });
});
