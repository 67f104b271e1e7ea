/** A kernel option or version the user gave that Linux (or tlplab) does not accept. */
export class KernelOptionError extends Error {
  readonly userFacing = true;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'KernelOptionError';
  }
}
