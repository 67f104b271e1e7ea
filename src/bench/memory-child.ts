/** Entry point of the memory benchmark's child process (node --expose-gc): prints one MemoryFigure as JSON. */
import { measureInFlightMemory } from './memory-bench.ts';

process.stdout.write(JSON.stringify(measureInFlightMemory(Number(process.argv[2]))));
