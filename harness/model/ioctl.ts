/**
 * ashmem ioctl command numbers (spec §1.3) and how a raw number is understood by the
 * driver, depending on the caller's word size and the profile's compat handling.
 */

/** Commands the driver knows, by name. */
export type AshmemCommand =
  | 'SET_NAME' | 'GET_NAME' | 'SET_SIZE' | 'GET_SIZE' | 'SET_PROT_MASK' | 'GET_PROT_MASK'
  | 'PIN' | 'UNPIN' | 'GET_PIN_STATUS' | 'PURGE_ALL_CACHES' | 'GET_FILE_ID';

/** `_IOC(dir, type, nr, size)` in the asm-generic layout (x86, ARM, arm64, RISC-V). */
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (0x77 << 8) | nr) >>> 0;
}
const W = 1; // _IOC_WRITE
const R = 2; // _IOC_READ

/** Numbers as a caller with `long` of `bits` bits encodes them (§1.3 table). */
export function commandNumbers(bits: 32 | 64): Record<AshmemCommand, number> {
  const word = bits / 8;
  return {
    SET_NAME: ioc(W, 1, 256),
    GET_NAME: ioc(R, 2, 256),
    SET_SIZE: ioc(W, 3, word),
    GET_SIZE: ioc(0, 4, 0),
    SET_PROT_MASK: ioc(W, 5, word),
    GET_PROT_MASK: ioc(0, 6, 0),
    PIN: ioc(W, 7, 8),
    UNPIN: ioc(W, 8, 8),
    GET_PIN_STATUS: ioc(0, 9, 0),
    PURGE_ALL_CACHES: ioc(0, 10, 0),
    GET_FILE_ID: ioc(R, 11, word),
  };
}

const NATIVE64 = commandNumbers(64);
const NATIVE32 = commandNumbers(32);
// Reverse tables: decoding is on the model's hot path.
const BY_NUMBER64 = new Map(Object.entries(NATIVE64).map(([k, v]) => [v, k as AshmemCommand]));
const BY_NUMBER32 = new Map(Object.entries(NATIVE32).map(([k, v]) => [v, k as AshmemCommand]));

/** Which 32-bit compat numbers a driver translates (§1.3). */
export type CompatHandling = 'none' | 'size-prot' | 'size-prot-fileid';

/**
 * Maps a raw command number, as the driver's handler sees it, to a command.
 * @param cmd - the number passed to ioctl(2) (truncated to 32 bits, as the kernel does)
 * @param callerBits - the calling process's word size
 * @param kernelBits - the kernel's word size
 * @param compat - the driver's compat translation
 * @returns the command, or undefined for a number the driver does not handle
 */
export function decodeCommand(cmd: number, callerBits: 32 | 64, kernelBits: 32 | 64, compat: CompatHandling): AshmemCommand | undefined {
  const known = (kernelBits === 64 ? BY_NUMBER64 : BY_NUMBER32).get(cmd);
  if (known !== undefined) return known;
  if (callerBits === 32 && kernelBits === 64) {
    // compat_ioctl: only these 32-bit encodings are rewritten to the native ones.
    if (compat !== 'none' && cmd === NATIVE32.SET_SIZE) return 'SET_SIZE';
    if (compat !== 'none' && cmd === NATIVE32.SET_PROT_MASK) return 'SET_PROT_MASK';
    if (compat === 'size-prot-fileid' && cmd === NATIVE32.GET_FILE_ID) return 'GET_FILE_ID';
  }
  return undefined;
}

/** The number the probe sends for a named op, as a caller of `bits` encodes it. */
export function nativeNumber(name: AshmemCommand, bits: 32 | 64): number {
  return (bits === 64 ? NATIVE64 : NATIVE32)[name];
}

/** VFS-level commands handled for every fd before the driver sees them (fs/ioctl.c). */
export const VFS_COMMANDS = { FIOCLEX: 0x5451, FIONCLEX: 0x5450 } as const;
