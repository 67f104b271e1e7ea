/**
 * Linux's host policy, rule by rule: untrusted devices below
 * external-facing ports (src/policy/untrusted.ts), reserved regions
 * (src/policy/reserved-regions.ts) and whose programming a device runs
 * across a hand-over (src/policy/device-control.ts). Each row names the
 * kernel function it follows.
 */
import { describe, expect, it } from 'vitest';
import { DeviceControl } from '../../src/policy/device-control.ts';
import { deviceClassOf, deviceResvRegions, directMappings, requiresDirect, reservedForUser, rmrrRelaxable, type FirmwareRange } from '../../src/policy/reserved-regions.ts';
import { defaultDomain, needsBounce, optInForcesIommu, thunderboltDmaProtection, untrustedFunctions } from '../../src/policy/untrusted.ts';

describe('set_pcie_untrusted: everything below an external-facing root port, not the port itself', () => {
  // rp-tb (external-facing) → sw-up → sw-dp → nic; rp0 → disk.
  const parents: Record<string, string | null> = { 'rp-tb': null, 'sw-up': 'rp-tb', 'sw-dp': 'sw-up', nic: 'sw-dp', rp0: null, disk: 'rp0' };
  const untrusted = untrustedFunctions(Object.keys(parents), { parentOf: (id) => parents[id] ?? null, externalFacing: (id) => id === 'rp-tb' });
  it.each([
    ['rp-tb', false, 'the port is external_facing, not untrusted (pci_acpi_set_external_facing)'],
    ['sw-up', true, 'its upstream bridge is external-facing'],
    ['sw-dp', true, 'its upstream bridge is untrusted'],
    ['nic', true, 'two levels down'],
    ['disk', false, 'below an internal port'],
  ])('%s untrusted: %s (%s)', (id, expected) => expect(untrusted.has(id)).toBe(expected));
});

describe('iommu_get_default_domain_type: the default domain', () => {
  it.each([
    [false, 'dma', true, { mode: 'paging', strict: true }, 'iommu.strict=1'],
    [false, 'dma', false, { mode: 'paging', strict: false }, 'lazy (DMA_FQ)'],
    [false, 'identity', false, { mode: 'identity', strict: true }, 'iommu=pt'],
    [true, 'identity', false, { mode: 'paging', strict: true }, 'untrusted: DMA even with iommu=pt, never DMA_FQ'],
    [true, 'dma', false, { mode: 'paging', strict: true }, 'untrusted: no flush queue'],
  ] as const)('untrusted %s, kernel %s, strict %s → %j (%s)', (untrusted, kernel, strict, expected, _why) => {
    expect(defaultDomain(untrusted, kernel, strict)).toEqual(expected);
  });
});

describe('dev_use_swiotlb + iova_unaligned: which buffers bounce', () => {
  it.each([
    [true, 0x1000_0800, 0x800, true, 'starts mid-page'],
    [true, 0x1000_0000, 0x800, true, 'ends mid-page'],
    [true, 0x1000_0000, 0x2000, false, 'whole pages'],
    [false, 0x1000_0800, 0x800, false, 'trusted: never'],
  ])('untrusted %s, 0x%s+0x%s → %s (%s)', (untrusted, hpa, size, expected) => expect(needsBounce(untrusted, hpa, size)).toBe(expected));
});

describe('platform_optin_force_iommu and nhi_check_iommu', () => {
  it.each([
    [true, true, true],
    [true, false, false],
    [false, true, false],
  ])('opt-in %s, external-facing port %s → IOMMU forced on %s', (optIn, external, expected) => expect(optInForcesIommu(optIn, external)).toBe(expected));

  it.each([
    [true, true, true, true],
    [true, true, false, false],
    [true, false, true, false],
    [false, true, true, false],
  ])('external-facing %s, opt-in %s, IOMMU on %s → iommu_dma_protection %s', (external, optIn, on, expected) => expect(thunderboltDmaProtection(external, optIn, on)).toBe(expected));
});

describe('iommu_get_resv_regions', () => {
  const firmware: FirmwareRange[] = [
    { kind: 'rmrr', region: 'usb-legacy', base: 0x7a00_0000, size: 0x1_0000, devices: ['xhci', 'hba'], perm: 'rw' },
    { kind: 'ivmd', region: 'psp', base: 0x7b00_0000, size: 0x1000, devices: ['nic'], perm: 'r' },
  ];
  it.each([
    ['usb', true],
    ['display', true],
    ['storage', false],
    [null, false],
  ] as const)('device_rmrr_is_relaxable(%s) = %s', (cls, expected) => expect(rmrrRelaxable(cls)).toBe(expected));

  it.each([
    [0x0c0330, 'usb', 'xHCI: PCI_CLASS_SERIAL_USB 0x0c03, prog-if 30h'],
    [0x0c0320, 'usb', 'EHCI'],
    [0x0c0500, 'other', 'SMBus (serial bus, not USB)'],
    [0x030000, 'display', 'VGA: PCI_BASE_CLASS_DISPLAY'],
    [0x038000, 'display', 'other display controller'],
    [0x020000, 'network', 'Ethernet'],
    [0x010802, 'storage', 'NVMe'],
    [0x060400, 'other', 'PCI-to-PCI bridge'],
  ] as const)('class code %#x is %s to Linux (%s)', (code, cls, _why) => expect(deviceClassOf(code)).toBe(cls));

  it('VT-d: an RMRR (direct or relaxable by class) and the MSI window', () => {
    expect(deviceResvRegions('vtd', { id: 'xhci', class: 'usb' }, firmware).map((r) => [r.type, r.base])).toEqual([['direct-relaxable', 0x7a00_0000], ['msi', 0xfee0_0000]]);
    expect(deviceResvRegions('vtd', { id: 'hba', class: 'storage' }, firmware).map((r) => r.type)).toEqual(['direct', 'msi']);
  });

  it('AMD-Vi: IVMD unity maps are direct with their permission; the MSI window and the HyperTransport range', () => {
    const regions = deviceResvRegions('amd-vi', { id: 'nic', class: null }, firmware);
    expect(regions.map((r) => [r.type, r.perm])).toEqual([['direct', 'r'], ['msi', 'w'], ['reserved', 'rw']]);
  });

  it('SMMUv3: the software MSI window at MSI_IOVA_BASE', () => {
    expect(deviceResvRegions('smmuv3', { id: 'x', class: null }, [])).toMatchObject([{ type: 'sw-msi', base: 0x800_0000, size: 0x10_0000 }]);
  });

  it('require_direct only for a non-relaxable range; both kinds are mapped 1:1 in a DMA domain', () => {
    const usb = deviceResvRegions('vtd', { id: 'xhci', class: 'usb' }, firmware);
    const hba = deviceResvRegions('vtd', { id: 'hba', class: 'storage' }, firmware);
    expect(requiresDirect(usb)).toBeNull();
    expect(requiresDirect(hba)).toMatchObject({ type: 'direct', region: 'usb-legacy' });
    expect(directMappings(usb)).toHaveLength(1);
  });

  it.each([
    [0xfee0_0000, 0x1000, 'MSI window (IOMMU_RESV_MSI)'],
    [0x7a00_0000, 0x1000, null],
    [0x1000, 0x1000, null],
  ])('vfio_iommu_resv_exclude: a user map at 0x%s+0x%s overlaps %s', (iova, size, source) => {
    expect(reservedForUser(deviceResvRegions('vtd', { id: 'xhci', class: 'usb' }, firmware), iova, size)?.source ?? null).toBe(source);
  });

  it('a non-relaxable RMRR is no IOVA a user may map', () => {
    expect(reservedForUser(deviceResvRegions('vtd', { id: 'hba', class: 'storage' }, firmware), 0x7a00_8000, 0x1000)?.type).toBe('direct');
  });
});

describe('DeviceControl: whose programming a device runs (vfio_pci_core_disable, pci_reset_function, XSA-302)', () => {
  it('a released device keeps running its releaser\'s programming until bus mastering is cleared or it is reset', () => {
    const c = new DeviceControl(new Map([['nic', 'vm1']]));
    expect([c.actor('nic'), c.refusal('nic')]).toEqual(['vm1', null]);
    c.busMasterOff('nic', 10, 'pci_clear_master');
    expect(c.refusal('nic')).toEqual({ principal: 'vm1', reason: 'device.bus-master-off', rule: 'pci_clear_master' });
    c.reset('nic', 20, 'FLR');
    expect(c.actor('nic')).toBeNull();
    expect(c.refusal('nic')).toEqual({ principal: 'vm1', reason: 'device.reset', rule: 'FLR' });
    expect(c.lastProgrammer('nic')).toBe('vm1');
  });

  it('assignment gives the device to its new holder, quiet no more', () => {
    const c = new DeviceControl(new Map([['nic', 'vm1']]));
    c.reset('nic', 5, 'FLR');
    c.assign('nic', 'vm2');
    expect([c.actor('nic'), c.refusal('nic'), c.lastProgrammer('nic')]).toEqual(['vm2', null, 'vm2']);
  });

  it('clearing bus mastering after a reset keeps the reset as the reason', () => {
    const c = new DeviceControl(new Map([['nic', 'vm1']]));
    c.reset('nic', 5, 'FLR');
    c.busMasterOff('nic', 6, 'pci_clear_master');
    expect(c.refusal('nic')?.reason).toBe('device.reset');
  });
});
