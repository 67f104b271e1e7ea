/** `tlplab explain`: the run story in the terminal, with colour only when asked, and `--svg` for one run's picture. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';

const reference = join(import.meta.dirname, '../../scenarios/spoofed-msi.yaml');
const one = ['--variant', 'machine.iommu.interrupt-remapping=on', '--variant', 'machine.iommu.source-id-validation=off'];
const ESC = '\u001b[';

async function tlplab(argv: string[], color = false) {
  const io = Object.assign(memoryIo(), { color });
  const code = await main(argv, io);
  return { code, ...io };
}

describe('tlplab explain', () => {
  it('tells each TLP hop by hop with the rule of each hop, its ending and what it touched', async () => {
    const { code, stdout } = await tlplab(['explain', reference, ...one]);
    expect(code).toBe(0);
    expect(stdout).toContain('tlp#2 MemWr 0xfee00098 from nic (requester 03:00.0)');
    expect(stdout).toMatch(/t=500ns\s+interrupt remapping \(vtd\)\s+remap/);
    expect(stdout).toContain('⇒ faulted (ir.compat-blocked 0x25)');
    expect(stdout).toContain('touched: interrupt lapic remapped entry 4 of host → CPU 0 vector 0x22 of host');
    expect(stdout).toMatch(/foreign-irte \(vm1 → host\): .* \[trace [\d,]+\]/);
    expect(stdout).not.toContain(ESC);
  });

  it('colours on a colour terminal, and not with --no-color', async () => {
    expect((await tlplab(['explain', reference, ...one], true)).stdout).toContain(ESC);
    expect((await tlplab(['explain', reference, ...one, '--no-color'], true)).stdout).not.toContain(ESC);
  });

  it('--svg writes the run\'s picture with its TLPs drawn and a legend', async () => {
    const { code, files } = await tlplab(['explain', reference, ...one, '--svg', 'run.svg']);
    expect(code).toBe(0);
    const svg = files.get('run.svg')!;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<g class="run-path" data-run="run">');
    expect(svg).not.toContain('display="none"');
    expect(svg).toContain('⚠ breach: foreign-irte');
    expect(svg).toContain('✕ faulted 0x25');
    expect(svg).toContain('aria-label="legend"');
  });

  it('--svg with more than one matching variant is a usage error naming how to pin one', async () => {
    const { code, stderr } = await tlplab(['explain', reference, '--svg', 'run.svg']);
    expect(code).toBe(2);
    expect(stderr).toContain('--svg draws one run, and 4 variants match; pin one with --variant');
  });
});
