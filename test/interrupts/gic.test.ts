/** ARM MSI controllers: GICv2m (SBSA; no device identity) against GICv3 ITS (IHI 0069 ch. 5; DeviceID + EventID). */
import { describe, expect, it } from 'vitest';
import { MsiCapability } from '../../src/pcie/msi.ts';
import { Gicv2mFrame, MSI_SETSPI_NS } from '../../src/interrupts/gicv2m.ts';
import { GITS_TRANSLATER, Gicv3Its, ItsError } from '../../src/interrupts/gicv3-its.ts';
import { MsiSources } from '../../src/interrupts/msi-source.ts';
import { delivered, machine, referenceDevices } from './machine.ts';

const V2M_BASE = 0x9000_0000;
const ITS_BASE = 0x9010_0000;

function armMachine(options: { deviceIdBits?: number } = {}) {
  const m = machine(referenceDevices);
  const v2m = new Gicv2mFrame({ name: 'v2m0', base: V2M_BASE, spiBase: 64, spiCount: 32 }, m.kernel, m.trace).install(m.fabric.root);
  const its = new Gicv3Its({ name: 'its0', base: ITS_BASE, ...options }, m.kernel, m.trace).install(m.fabric.root);
  const nic = m.fabric.fn('nic');
  const nvme = m.fabric.fn('nvme');
  // The host's setup: the NVMe drive's SPI and its ITS event (Linux gicv2m_irq_domain_alloc; its_msi_prepare MAPD, MAPTI, MAPC).
  const nvmeSpi = v2m.allocateSpi('host', 'nvme');
  if (nvme.rid < 2 ** (options.deviceIdBits ?? 16)) {
    its.mapDevice(nvme.rid, 0, 'host');
    its.mapEvent(nvme.rid, 0, 8192, 0, 'host');
  }
  its.mapCollection(0, 1);
  return { ...m, v2m, its, nic, nvme, nvmeSpi };
}

const doorbellWrite = (address: number, data: number) => ({ type: 'MemWr', address, data, length: 4 }) as const;

describe('a forged MSI from the NIC naming the NVMe drive\'s interrupt: GICv2m vs ITS', () => {
  it.each([
    {
      controller: 'GICv2m',
      source: 'SBSA GICv2m MSI_SETSPI_NS: the frame cannot tell who wrote',
      write: (m: ReturnType<typeof armMachine>) => doorbellWrite(V2M_BASE + MSI_SETSPI_NS, m.nvmeSpi.spi),
      want: { outcome: 'delivered', faultCode: null },
    },
    {
      controller: 'GICv3 ITS',
      source: 'IHI 0069 §5.2: DeviceID is the NIC\'s, whose ITT has no EventID 0',
      write: () => doorbellWrite(ITS_BASE + GITS_TRANSLATER, 0),
      want: { outcome: 'faulted', faultCode: ItsError.unmappedDevice },
    },
  ])('$controller: $source', ({ write, want }) => {
    const m = armMachine();
    const tlp = m.send('nic', write(m));
    expect({ outcome: tlp.outcome, faultCode: tlp.faultCode }).toEqual(want);
    if (want.outcome === 'delivered') {
      expect(delivered(tlp)).toMatchObject({ controller: 'gicv2m', vector: m.nvmeSpi.spi, entryOwner: 'host', causedBy: 'nic', irte: null });
    }
  });
});

describe('GICv2m frame (SBSA GICv2m; QEMU hw/intc/arm_gicv2m.c)', () => {
  it('MSI_TYPER reports the frame\'s first SPI (25:16) and count (9:0)', () => {
    expect(armMachine().v2m.typer).toBe((64 << 16) | 32);
  });

  it.each([
    { spi: 64, want: 'delivered', source: 'the first SPI of the frame' },
    { spi: 95, want: 'delivered', source: 'the last SPI of the frame, even one nobody was given' },
    { spi: 63, want: 'blocked', source: 'below the frame: ignored' },
    { spi: 96, want: 'blocked', source: 'above the frame: ignored' },
  ])('SPI $spi, $source', ({ spi, want }) => {
    expect(armMachine().send('nic', doorbellWrite(V2M_BASE + MSI_SETSPI_NS, spi)).outcome).toBe(want);
  });

  it('a read of the doorbell from a device is an Unsupported Request', () => {
    expect(armMachine().send('nic', { type: 'MemRd', address: V2M_BASE + MSI_SETSPI_NS, length: 4 }).outcome).toBe('unsupported-request');
  });

  it('delivers the NVMe drive\'s own MSI as programmed by the host (Linux gicv2m_compose_msi_msg: frame + 0x40, INTID)', () => {
    const m = armMachine();
    const msi = MsiCapability.attach(m.nvme.config);
    msi.program({ address: m.nvmeSpi.address, data: m.nvmeSpi.data });
    const tlp = new MsiSources(m.fabric).add(m.nvme, { msi }).signal(0)!;
    m.run();
    expect(delivered(tlp)).toMatchObject({ path: 'spi', vector: 64, entryOwner: 'host', causedBy: 'nvme' });
  });
});

describe('GICv3 ITS translation (IHI 0069 ch. 5; failures dropped with the INT command error encodings, E_ITS_*)', () => {
  it('the NVMe drive\'s own EventID 0 becomes LPI 8192 on its collection\'s PE', () => {
    const m = armMachine();
    const irq = delivered(m.send('nvme', doorbellWrite(ITS_BASE + GITS_TRANSLATER, 0)));
    expect(irq).toMatchObject({ controller: 'gicv3-its', path: 'lpi', vector: 8192, destination: 1, cpus: [1], irte: 0, deviceId: m.nvme.rid, entryOwner: 'host', causedBy: 'nvme' });
    expect(m.events('its.translated')).toMatchObject([{ deviceId: m.nvme.rid, eventId: 0, lpi: 8192 }]);
  });

  it.each([
    { source: 'DeviceID beyond GITS_TYPER.Devbits', setup: () => armMachine({ deviceIdBits: 9 }), eventId: 0, code: ItsError.deviceOutOfRange, reason: 'its.device-out-of-range' },
    { source: 'no MAPD for the NIC', setup: () => armMachine(), eventId: 0, code: ItsError.unmappedDevice, reason: 'its.unmapped-device' },
    { source: 'EventID beyond the NIC\'s ITT', setup: () => withNic(armMachine()), eventId: 5, code: ItsError.eventOutOfRange, reason: 'its.event-out-of-range' },
    { source: 'EventID with no MAPTI in the NIC\'s ITT (E_ITS_INT_UNMAPPED_INTERRUPT)', setup: () => withNic(armMachine()), eventId: 1, code: ItsError.unmappedInterrupt, reason: 'its.unmapped-interrupt' },
    { source: 'an event mapped to a collection with no MAPC', setup: () => withNic(armMachine(), 7), eventId: 0, code: ItsError.unmappedCollection, reason: 'its.unmapped-collection' },
  ])('$source → $code', ({ setup, eventId, code, reason }) => {
    const m = setup();
    const tlp = m.send('nic', doorbellWrite(ITS_BASE + GITS_TRANSLATER, eventId));
    expect([tlp.outcome, tlp.faultCode, tlp.reason]).toEqual(['faulted', code, reason]);
    expect(m.events('its.error')).toMatchObject([{ code, eventId }]);
  });

  it('the NIC writing EventID 0 reaches only its own LPI, never the NVMe drive\'s', () => {
    const m = withNic(armMachine());
    expect(delivered(m.send('nic', doorbellWrite(ITS_BASE + GITS_TRANSLATER, 0)))).toMatchObject({ vector: 8200, entryOwner: 'vm1', deviceId: m.nic.rid });
  });

  it('a write elsewhere in the ITS frames is an Unsupported Request', () => {
    expect(armMachine().send('nic', doorbellWrite(ITS_BASE + 0x40, 0)).outcome).toBe('unsupported-request');
  });
});

/** MAPD for the NIC (4 EventIDs), MAPTI EventID 0 → LPI 8200 in `collection`. */
function withNic<M extends ReturnType<typeof armMachine>>(m: M, collection = 0): M {
  m.its.mapDevice(m.nic.rid, 1, 'vm1');
  m.its.mapEvent(m.nic.rid, 0, 8200, collection);
  return m;
}
