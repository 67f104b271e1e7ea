/** The scenario `tlplab init` writes: small, commented, and passing as written (a test runs it). */
export function scenarioTemplate(name: string): string {
  return `# A tlplab scenario (format: DESIGN.md §5; editors: schemas/tlplab-v1.schema.json).
# Run it:      tlplab run ${name}.yaml
# Explain one: tlplab explain ${name}.yaml --variant iommu.dma-remapping=on
schema: tlplab/v1
name: ${name}
title: A guest's NIC DMA-writes into host memory
summary: >
  The NIC is passed through to guest vm1. Its driver makes it DMA-write into
  host RAM outside the guest's memory. With DMA remapping the IOMMU translates
  the NIC's requests through vm1's domain, which maps only vm1's RAM, so the
  write faults; without it the write lands.
sources:
  - Intel VT-d specification, 3.6 (second-stage translation)

machine:
  cpus: 2
  iommu:
    model: vtd                    # vtd | amd-vi | smmuv3 | none
    dma-remapping: on             # the axis below varies it
    interrupt-remapping: on
  memory:                         # who owns which host-physical range
    - { name: host-ram, base: 0x0, size: 2G, owner: host }
    - { name: vm1-ram, base: 0x80000000, size: 1G, owner: vm1 }
  devices:                        # buses, BDFs and BARs are assigned as firmware would, unless pinned
    - { id: rp0, type: root-port, bdf: "00:1c.0", acs: [SV, RR, CR, UF] }
    - { id: nic, type: endpoint, parent: rp0, owner: vm1, bars: [64K], msix: 2 }

domains:                          # IOMMU domains: which IOVAs a device may reach, and where they land
  vm1:
    devices: [nic]
    map:
      - { iova: 0x0, to: vm1-ram, size: 1G, perm: rw }

attack:
  attacker: vm1                   # the principal whose devices are hostile
  steps:                          # in time order; device steps name the device with from:
    - { at: 0ns, from: nic, write: 0x10000000, data: 0x41414141 }   # host RAM, outside vm1's grant
    - { at: 100ns, from: nic, write: 0x1000, data: 0x1 }            # IOVA 0x1000 = vm1's own RAM

variants:                         # every combination of these values is one run
  machine.iommu.dma-remapping: [off, on]

expect:                           # first matching rule wins; every variant must be covered
  - when: { machine.iommu.dma-remapping: off }
    verdict: breached
    because: without remapping the NIC's address is host-physical, and 0x10000000 is host RAM
  - verdict: isolated
    because: the IOMMU translates through vm1's domain, which maps only vm1's RAM
`;
}
