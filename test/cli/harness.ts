/** Runs the CLI in this process with in-memory output, as the tests of each command do. */
import { main } from '../../src/cli/main.ts';
import { memoryIo } from '../../src/cli/io.ts';

export async function tlplab(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, ...io };
}
