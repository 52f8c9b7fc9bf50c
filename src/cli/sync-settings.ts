import type { Command } from 'commander';
import { parseConcurrency, parseConflictPolicy, parseDeleteLimit, parseTrashKeep, parseWait } from '../config/options.js';
import { parseBandwidth } from '../config/bandwidth.js';
import { UsageError } from '../errors.js';
import { resolveStateDir } from '../store/state-location.js';
import type { SyncSettings } from '../sync/settings.js';
import type { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { reportError } from './report-error.js';
import type { SyncFlags } from './sync-options.js';
import { keptMetaOf } from '../sync/kept-meta.js';

export function settingsOf(left: string, right: string, flags: SyncFlags, io: Io): SyncSettings {
  return {
    left,
    right,
    mode: flags.oneWay === true ? 'one-way' : 'two-way',
    policy: parseConflictPolicy(flags.conflict),
    stateDir: resolveStateDir({ flag: flags.stateDir, env: io.env }),
    checksum: flags.checksum === true,
    dryRun: flags.dryRun === true,
    force: flags.force === true,
    deleteLimit: parseDeleteLimit(flags.maxDelete),
    concurrency: parseConcurrency(flags.concurrency),
    flush: flags.fsync,
    ...(flags.flushNow === true ? { flushNow: true } : {}),
    waitSeconds: parseWait(flags.wait),
    filters: { exclude: flags.exclude, include: flags.include },
    trash: { enabled: flags.trash, keepMs: parseTrashKeep(flags.trashKeep) },
    ...(flags.ssh === undefined ? {} : { sshCommand: flags.ssh }),
    ...(flags.numericIds === true ? { numericIds: true } : {}),
    ...(flags.compress !== true && flags.bwlimit === undefined ? {} : { link: { compress: flags.compress === true, bytesPerSecond: parseBandwidth(flags.bwlimit) } }),
    ...keptMetaOf({ owner: flags.owner !== false, group: flags.group !== false, xattrs: flags.xattrs !== false }),
  };
}

/** settingsOf, or null where it would throw (the command reports the error when it calls settingsOf itself). */
export function validSettingsOf(left: string, right: string, flags: SyncFlags, io: Io): SyncSettings | null {
  try {
    return settingsOf(left, right, flags, io);
  } catch {
    return null;
  }
}

/**
 * Roots and options from `--profile NAME` (config file, see config/profiles.ts), under what the command
 * line and TSYNC_* variables say: flags given there win, the profile fills in the rest.
 */
export async function withProfile<F extends SyncFlags>(
  left: string | undefined,
  right: string | undefined,
  flags: F,
  cmd: Command,
  io: Io,
  run: (left: string, right: string, flags: F) => Promise<ExitCode>,
): Promise<ExitCode> {
  let leftRoot = left;
  let rightRoot = right;
  let merged: F = flags;
  try {
    if (flags.profile !== undefined) {
      // valibot and the schema load only when a profile is asked for: most runs never read a config file
      const { configCandidates, loadProfile } = await import('../config/profiles.js');
      const profile = loadProfile(flags.profile, configCandidates(flags.config, io.env, process.cwd()));
      const given = (key: string): boolean => ['cli', 'env'].includes(cmd.getOptionValueSource(key) ?? '');
      const fill: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(profile)) {
        if (key === 'source' || key === 'destination' || value === undefined || given(key)) continue;
        fill[key] = value;
      }
      merged = { ...flags, ...fill };
      leftRoot ??= profile.source;
      rightRoot ??= profile.destination;
    }
    if (leftRoot === undefined) throw new UsageError("missing required argument 'src' (or a --profile that names it)");
    if (rightRoot === undefined) throw new UsageError("missing required argument 'dst' (or a --profile that names it)");
  } catch (e) {
    return reportError(e, io);
  }
  return run(leftRoot, rightRoot, merged);
}
