/**
 * Linux's pci_acs_flags_enabled() (drivers/pci/pci.c) as the 2025 series
 * extends it with pci_acs_ctrl_mask() (patch 10/11): capabilities missing
 * from the capability word count as hard-wired on, and the ACS Enhanced
 * controls are tested only when the Enhanced capability bit is set.
 */
import { describe, expect, it } from 'vitest';
import { ACS_ENHANCED, Acs, AcsCtl, REQUIRED_ACS, memoryTargetBits } from '../../src/pcie/acs.ts';
import { DSP_MT_RR, USP_MT_RR, acsFlagsEnabled, pciAcsEnabled } from '../../src/policy/acs-check.ts';
import type { AcsState, PciFunction } from '../../src/policy/pci-topology.ts';

const ALL = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
const port = (acs: AcsState, ids?: PciFunction['ids']): PciFunction => ({
  key: '0000:02:00.0',
  bdf: { domain: 0, bus: 2, device: 0, fn: 0 },
  label: 'dp',
  portType: 'downstream',
  isBridge: true,
  parent: '0000:01:00.0',
  multifunction: false,
  acs,
  dmaAliasDevfns: [],
  ...(ids ? { ids } : {}),
});

describe('pci_acs_flags_enabled with pci_acs_ctrl_mask', () => {
  it.each<[string, AcsState, number, boolean]>([
    ['no capability: false', { kind: 'none' }, REQUIRED_ACS, false],
    ['REQ_ACS_FLAGS enabled', { kind: 'present', cap: ALL, ctl: REQUIRED_ACS }, REQUIRED_ACS, true],
    ['RR implemented but off', { kind: 'present', cap: ALL, ctl: Acs.SV | Acs.CR | Acs.UF }, REQUIRED_ACS, false],
    ['RR not implemented: hard-wired on', { kind: 'present', cap: ALL & ~Acs.RR, ctl: Acs.SV | Acs.CR | Acs.UF }, REQUIRED_ACS, true],
    ['no Enhanced capability: DSP_MT_RR and USP_MT_RR are masked, assumed in RR', { kind: 'present', cap: ALL, ctl: REQUIRED_ACS }, REQUIRED_ACS | DSP_MT_RR | USP_MT_RR, true],
    ['Enhanced, both memory targets redirect', { kind: 'present', cap: ALL | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits('redirect', 'dsp') | memoryTargetBits('redirect', 'usp') }, REQUIRED_ACS | DSP_MT_RR | USP_MT_RR, true],
    ['Enhanced, DSP memory target direct: DSP_MT_RR missing', { kind: 'present', cap: ALL | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits('redirect', 'usp') }, REQUIRED_ACS | DSP_MT_RR | USP_MT_RR, false],
    ['Enhanced, DSP memory target block (01b) is not redirect', { kind: 'present', cap: ALL | ACS_ENHANCED, ctl: REQUIRED_ACS | memoryTargetBits('block', 'dsp') }, DSP_MT_RR, false],
    ['Enhanced, Unclaimed Request Redirect on', { kind: 'present', cap: ALL | ACS_ENHANCED, ctl: AcsCtl.UNCLAIMED_RR }, AcsCtl.UNCLAIMED_RR, true],
  ])('%s', (_name, acs, flags, want) => {
    expect(acsFlagsEnabled(port(acs), flags)).toBe(want);
  });

  it('a quirk answers for the Enhanced bits like any other: a Zhaoxin DSP providing SV|RR|CR|UF does not provide DSP_MT_RR', () => {
    const zhaoxin = port({ kind: 'none' }, { vendor: 0x1d17, device: 0x0710, source: 'scenario' });
    expect(pciAcsEnabled(zhaoxin, REQUIRED_ACS, {})).toBe(true);
    expect(pciAcsEnabled(zhaoxin, REQUIRED_ACS | DSP_MT_RR, {})).toBe(false);
  });
});
