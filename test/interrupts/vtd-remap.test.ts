/** VT-d interrupt remapping: fault codes 20h–26h, check order, SVT/SQ, compatibility format, FPD, IEC (VT-d §5.1, §9.10). */
import { describe, expect, it } from 'vitest';
import { Tlp } from '../../src/pcie/tlp.ts';
import { newDecision, type RemapDecision } from '../../src/interrupts/remap.ts';
import { VtdInterruptRemapper, type VtdIrConfig } from '../../src/interrupts/vtd-remap.ts';
import type { IrteFields } from '../../src/interrupts/vtd-irte.ts';
import { composeCompat, composeRemappable } from '../../src/interrupts/x86-msi.ts';

const DEV = 0x0300; // 03:00.0
const GOOD: IrteFields = { present: true, vector: 0x41, destination: 2, svt: 1, sq: 0, sid: DEV };

function remapper(config: Partial<VtdIrConfig> = {}, entries: [number, IrteFields][] = [[4, GOOD]]): VtdInterruptRemapper {
  const r = new VtdInterruptRemapper({ sizeField: 7, ...config });
  for (const [index, fields] of entries) r.writeIrte(index, fields, 'host');
  return r;
}

let nextTlp = 1;
function request(r: VtdInterruptRemapper, requesterId: number, msg: { address: number; data: number }): RemapDecision {
  const tlp = new Tlp(nextTlp++, { type: 'MemWr', requesterId, address: msg.address, data: msg.data });
  const d = newDecision();
  r.remap(tlp, msg.address, msg.data, d);
  return d;
}

const faultOf = (d: RemapDecision) => (d.kind === 'fault' ? d.faultCode : d.kind);

describe('every interrupt-remapping fault reason (VT-d §5.1.4.1; QEMU VTD_FR_IR_*, VirtualBox VTDIRFAULT_*)', () => {
  it.each([
    { code: 0x20, source: 'VT-d §5.1.4: reserved fields (data 31:16) in a remappable request', r: () => remapper(), rid: DEV, msg: { address: composeRemappable(4).address, data: 0x1_0000 } },
    { code: 0x21, source: 'VT-d §5.1.3: interrupt_index ≥ 2^(IRTA.S+1)', r: () => remapper(), rid: DEV, msg: composeRemappable(256) },
    { code: 0x22, source: 'VT-d §5.1.4: IRTE present bit clear', r: () => remapper(), rid: DEV, msg: composeRemappable(5) },
    { code: 0x23, source: 'VT-d §5.1.4.1: the IRTE read through IRTA fails', r: () => remapper({ tableAddress: 0xdead_0000 }), rid: DEV, msg: composeRemappable(4) },
    { code: 0x24, source: 'VT-d §9.10: reserved bits 14:12 set with P=1', r: () => remapper({}, [[4, { ...GOOD, raw: [1 << 12, 0, 0, 0] }]]), rid: DEV, msg: composeRemappable(4) },
    { code: 0x25, source: 'VT-d §5.1.4: compatibility format with CFIS clear', r: () => remapper(), rid: DEV, msg: composeCompat({ destination: 0, vector: 0x30 }) },
    { code: 0x26, source: 'VT-d §9.10: SVT=01b source-id mismatch', r: () => remapper(), rid: 0x0400, msg: composeRemappable(4) },
  ])('fault $code: $source', ({ code, r, rid, msg }) => {
    const remap = r();
    remap.tableReadable = () => false;
    const d = request(remap, rid, msg);
    expect(faultOf(d)).toBe(code);
    expect(remap.faults.records.at(-1)).toMatchObject({ code, requesterId: rid });
  });

  it('delivers the IRTE\'s vector and destination when every check passes (VT-d §5.1.4)', () => {
    const d = request(remapper(), DEV, composeRemappable(4));
    expect(d).toMatchObject({ kind: 'deliver', path: 'remapped', index: 4, entryOwner: 'host', attrs: { vector: 0x41, destination: 2, destinationMode: 'physical', deliveryMode: 0 } });
  });
});

describe('check order (DESIGN.md §2; VT-d §5.1.4; VirtualBox dmarIrRemapIntr)', () => {
  it.each([
    { source: 'reserved request bits before the index bound', msg: { address: composeRemappable(300).address, data: 0x1_0000 }, entries: [] as [number, IrteFields][], config: {}, want: 0x20 },
    { source: 'the index bound before the table read', msg: composeRemappable(300), entries: [], config: { tableAddress: 0xdead_0000 }, want: 0x21 },
    { source: 'P before reserved IRTE bits (VirtualBox: "must be done before checking reserved bits")', msg: composeRemappable(4), entries: [[4, { ...GOOD, present: false, raw: [1 << 12, 0, 0, 0] }]] as [number, IrteFields][], config: {}, want: 0x22 },
    { source: 'reserved IRTE bits before the source-id check', msg: composeRemappable(4), entries: [[4, { ...GOOD, sid: 0x0999, raw: [1 << 13, 0, 0, 0] }]] as [number, IrteFields][], config: {}, want: 0x24 },
    { source: 'compatibility format is judged before anything in the table', msg: composeCompat({ destination: 0, vector: 0x30 }), entries: [], config: { tableAddress: 0xdead_0000 }, want: 0x25 },
  ])('$source', ({ msg, entries, config, want }) => {
    const r = remapper(config, entries);
    r.tableReadable = () => false;
    expect(faultOf(request(r, DEV, msg))).toBe(want);
  });
});

describe('source-id validation, SVT=01b with each SQ mask (VT-d §9.10 SQ: 00 all bits, 01 ignore bit 2, 10 ignore 2:1, 11 ignore 2:0)', () => {
  const SID = 0x0305; // 03:00.5
  it.each([
    { sq: 0, rid: 0x0305, pass: true },
    { sq: 0, rid: 0x0301, pass: false },
    { sq: 1, rid: 0x0301, pass: true },
    { sq: 1, rid: 0x0307, pass: false },
    { sq: 2, rid: 0x0303, pass: true },
    { sq: 2, rid: 0x0304, pass: false },
    { sq: 3, rid: 0x0300, pass: true },
    { sq: 3, rid: 0x030d, pass: false },
    { sq: 3, rid: 0x0405, pass: false },
  ])('SQ=$sq: requester $rid → $pass', ({ sq, rid, pass }) => {
    const r = remapper({}, [[4, { ...GOOD, svt: 1, sq, sid: SID }]]);
    expect(faultOf(request(r, rid, composeRemappable(4)))).toBe(pass ? 'deliver' : 0x26);
  });
});

describe('source-id validation, SVT=10b: start bus = SID[15:8], end bus = SID[7:0], inclusive (VT-d §9.10; Linux set_irte_verify_bus; VirtualBox, not QEMU)', () => {
  it.each([
    { sid: 0x0507, bus: 0x05, pass: true, source: 'start bus is inside' },
    { sid: 0x0507, bus: 0x06, pass: true, source: 'a bus between is inside' },
    { sid: 0x0507, bus: 0x07, pass: true, source: 'end bus is inside' },
    { sid: 0x0507, bus: 0x04, pass: false, source: 'below the start bus is outside' },
    { sid: 0x0507, bus: 0x08, pass: false, source: 'above the end bus is outside' },
    { sid: 0x0505, bus: 0x05, pass: true, source: 'a one-bus range (what Linux writes behind a PCIe-to-PCI bridge)' },
    { sid: 0x0705, bus: 0x06, pass: false, source: 'SID 0x0705 is the empty range 7..5 (QEMU\'s inverted reading would accept it)' },
  ])('$source: SID 0x$sid, bus $bus', ({ sid, bus, pass }) => {
    const r = remapper({}, [[4, { ...GOOD, svt: 2, sid }]]);
    expect(faultOf(request(r, (bus << 8) | 0x18, composeRemappable(4)))).toBe(pass ? 'deliver' : 0x26);
  });

  it('SVT=00b checks nothing (VT-d §9.10; Linux intremap=nosid)', () => {
    const r = remapper({}, [[4, { ...GOOD, svt: 0, sid: 0x0000 }]]);
    expect(faultOf(request(r, 0xff07, composeRemappable(4)))).toBe('deliver');
  });

  it('SVT=11b is reserved: fault 24h (VT-d §5.1.4.1 24h covers wrongly programmed fields; VirtualBox kDmarDiag_Ir_Rfi_Irte_Svt_Rsvd)', () => {
    const r = remapper({}, [[4, { ...GOOD, svt: 3 }]]);
    expect(faultOf(request(r, DEV, composeRemappable(4)))).toBe(0x24);
  });
});

describe('compatibility-format requests with remapping on (VT-d §5.1.4: blocked if EIME=1 or CFIS=0, else passed through)', () => {
  it.each([
    { eime: false, cfi: false, want: 0x25 },
    { eime: false, cfi: true, want: 'deliver' },
    { eime: true, cfi: false, want: 0x25 },
    { eime: true, cfi: true, want: 0x25 },
  ])('EIME=$eime CFIS=$cfi → $want', ({ eime, cfi, want }) => {
    const d = request(remapper({ eime, cfi }), DEV, composeCompat({ destination: 1, vector: 0x30 }));
    expect(faultOf(d)).toBe(want);
    if (want === 'deliver') expect(d).toMatchObject({ path: 'compat-passthrough', index: null, attrs: { vector: 0x30, destination: 1 } });
  });

  it('with remapping off every request is compatibility format, even one with bit 4 set (VT-d §5.1.4)', () => {
    const d = request(remapper({ enabled: false }), DEV, composeRemappable(4));
    expect(d).toMatchObject({ kind: 'deliver', path: 'untranslated', index: null, attrs: { destination: 0, redirectionHint: true } });
  });
});

describe('FPD suppresses recording, not blocking (VT-d §9.10 FPD; qualified faults 22h/24h/26h)', () => {
  it.each([
    { code: 0x22, fields: { ...GOOD, present: false, fpd: true } },
    { code: 0x24, fields: { ...GOOD, fpd: true, raw: [0, 0, 1 << 20, 0] as [number, number, number, number] } },
    { code: 0x26, fields: { ...GOOD, fpd: true, sid: 0x0999 } },
  ])('fault $code with FPD=1 still blocks but is not recorded', ({ code, fields }) => {
    const r = remapper({}, [[4, fields]]);
    const d = request(r, DEV, composeRemappable(4));
    expect(faultOf(d)).toBe(code);
    expect(r.faults.records).toHaveLength(0);
    expect(r.faults.suppressed).toBe(1);
  });

  it('an unqualified fault is recorded whatever the entry says (VirtualBox vtdIrFaultIsQualified)', () => {
    const r = remapper({}, [[4, { ...GOOD, fpd: true }]]);
    expect(faultOf(request(r, DEV, { address: composeRemappable(4).address, data: 0x2_0000 }))).toBe(0x20);
    expect(r.faults.records).toHaveLength(1);
  });

  it('FPD on a valid entry changes nothing', () => {
    expect(faultOf(request(remapper({}, [[4, { ...GOOD, fpd: true }]]), DEV, composeRemappable(4)))).toBe('deliver');
  });
});

describe('IRTE validity (VT-d §9.10, §9.11)', () => {
  it.each([
    { source: 'xAPIC mode: destination bits 39:32 reserved', config: {}, fields: { ...GOOD, raw: [0, 1, 0, 0] }, want: 0x24 },
    { source: 'x2APIC mode: the same bits are part of the 32-bit destination', config: { eime: true }, fields: { ...GOOD, raw: [0, 1, 0, 0] }, want: 'deliver' },
    { source: 'bits 127:96 reserved', config: {}, fields: { ...GOOD, raw: [0, 0, 0, 1] }, want: 0x24 },
    { source: 'delivery mode 011b reserved', config: {}, fields: { ...GOOD, deliveryMode: 3 }, want: 0x24 },
    { source: 'IM=1 without posted-interrupt support (CAP_REG.PI=0)', config: {}, fields: { ...GOOD, posted: true, descriptor: 0x1000 }, want: 0x24 },
    { source: 'IM=1 with posted interrupts: posted to the descriptor (§5.2.3)', config: { postedInterrupts: true }, fields: { ...GOOD, posted: true, descriptor: 0x1_2345_6780 }, want: 'deliver' },
  ] as { source: string; config: Partial<VtdIrConfig>; fields: IrteFields; want: number | string }[])('$source', ({ config, fields, want }) => {
    const d = request(remapper(config, [[4, fields]]), DEV, composeRemappable(4));
    expect(faultOf(d)).toBe(want);
  });

  it('a posted IRTE records its descriptor and delivers to no CPU directly (VT-d §5.2.3)', () => {
    const d = request(remapper({ postedInterrupts: true }, [[4, { ...GOOD, posted: true, descriptor: 0x1_2345_6780 }]]), DEV, composeRemappable(4));
    expect(d).toMatchObject({ path: 'posted', postedDescriptor: 0x1_2345_6780, attrs: { vector: 0x41 } });
  });

  it('x2APIC mode takes all 32 destination bits (VT-d §9.10 DST)', () => {
    const d = request(remapper({ eime: true }, [[4, { ...GOOD, destination: 0x1_0002 }]]), DEV, composeRemappable(4));
    expect(d.attrs.destination).toBe(0x1_0002);
  });
});

describe('interrupt entry cache (VT-d §6.5.2.7: software invalidates after changing an IRTE; Linux modify_irte → qi_flush_iec)', () => {
  it('a changed IRTE without IEC invalidation keeps delivering the cached entry, then the new one', () => {
    const r = remapper();
    expect(request(r, DEV, composeRemappable(4)).attrs.vector).toBe(0x41);
    r.writeIrte(4, { ...GOOD, vector: 0x42 }, 'vm1');
    const stale = request(r, DEV, composeRemappable(4));
    // The cached bits decide what is delivered; the entry is vm1's now (the configuration's intent, DESIGN.md §3).
    expect(stale).toMatchObject({ stale: true, entryOwner: 'vm1', attrs: { vector: 0x41 } });
    r.invalidateIec(4);
    expect(request(r, DEV, composeRemappable(4))).toMatchObject({ stale: false, entryOwner: 'vm1', attrs: { vector: 0x42 } });
  });

  it('a freed IRTE still delivers until the IEC is flushed (Linux clear_entries flushes; a host that does not leaves it usable)', () => {
    const r = remapper();
    request(r, DEV, composeRemappable(4));
    r.writeIrte(4, { present: false, vector: 0 }, null);
    expect(faultOf(request(r, DEV, composeRemappable(4)))).toBe('deliver');
    r.invalidateIec();
    expect(faultOf(request(r, DEV, composeRemappable(4)))).toBe(0x22);
  });

  it('modifyIrte and clearIrte invalidate as Linux does', () => {
    const r = remapper();
    request(r, DEV, composeRemappable(4));
    r.modifyIrte(4, { ...GOOD, vector: 0x50 }, 'host');
    expect(request(r, DEV, composeRemappable(4)).attrs.vector).toBe(0x50);
    r.clearIrte(4);
    expect(faultOf(request(r, DEV, composeRemappable(4)))).toBe(0x22);
  });

  it('index-selective invalidation covers the 2^IM entries aligned at the index (VT-d §6.5.2.7 IIDX/IM)', () => {
    const r = remapper({}, [[4, GOOD], [5, GOOD], [8, GOOD]]);
    for (const i of [4, 5, 8]) request(r, DEV, composeRemappable(i));
    r.invalidateIec(5, 1);
    expect([r.cached(4), r.cached(5), r.cached(8)]).toEqual([false, false, true]);
  });

  it('hardware without an IEC always reads the table', () => {
    const r = remapper({ iec: false });
    request(r, DEV, composeRemappable(4));
    r.writeIrte(4, { ...GOOD, vector: 0x43 }, 'host');
    expect(request(r, DEV, composeRemappable(4)).attrs.vector).toBe(0x43);
  });
});

describe('table size from IRTA.S (VT-d §11.4 IRTA_REG: 2^(S+1) entries)', () => {
  it.each([
    { s: 0, entries: 2 },
    { s: 7, entries: 256 },
    { s: 15, entries: 65536 },
  ])('S=$s → $entries entries', ({ s, entries }) => {
    const r = new VtdInterruptRemapper({ sizeField: s });
    expect(r.entries).toBe(entries);
    expect(faultOf(request(r, DEV, composeRemappable(entries - 1)))).toBe(0x22);
    if (entries < 65536) expect(faultOf(request(r, DEV, composeRemappable(entries)))).toBe(0x21);
  });

  it('handle + subhandle past 0xFFFF is out of range even for a 64K table (VT-d §5.1.3)', () => {
    const r = new VtdInterruptRemapper({ sizeField: 15 });
    expect(faultOf(request(r, DEV, composeRemappable(0xffff, 1)))).toBe(0x21);
  });
});
