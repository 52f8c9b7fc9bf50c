/** Runs `check` with the addon in use (TSYNC_NATIVE=1), then without it (0), and puts the variable back. */
export async function withAndWithoutAddon(check: (native: boolean) => void | Promise<void>): Promise<void> {
  const before = process.env.TSYNC_NATIVE;
  try {
    for (const native of [true, false]) {
      process.env.TSYNC_NATIVE = native ? '1' : '0';
      await check(native);
    }
  } finally {
    if (before === undefined) delete process.env.TSYNC_NATIVE;
    else process.env.TSYNC_NATIVE = before;
  }
}
