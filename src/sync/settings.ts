import type { LinkOptions } from '../remote/open-remote.js';
import type { DeleteLimit } from '../core/safety.js';
import type { ConflictPolicy, KeptMeta } from '../core/types.js';
import type { FilterRules } from '../ignore/path-filter.js';

export type SyncMode = 'one-way' | 'two-way';

/** Resolved, validated settings of a sync or watch run (see src/config for how they are parsed). */
export interface SyncSettings {
  readonly left: string;
  readonly right: string;
  readonly mode: SyncMode;
  readonly policy: ConflictPolicy;
  readonly stateDir: string;
  readonly checksum: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly deleteLimit: DeleteLimit;
  readonly concurrency: number;
  /** How long to wait for another tsync on the same pair (0: exit 5 at once). */
  readonly waitSeconds: number;
  /** --exclude / --include patterns (gitignore syntax); .tsyncignore files add to them. */
  readonly filters: FilterRules;
  /** Keep what is overwritten or deleted in `<root>/.tsync/trash/<stamp>/` (off with --no-trash), for keepMs. */
  readonly trash: { readonly enabled: boolean; readonly keepMs: number };
  /** Flush written roots to disk before the index records them (--no-fsync turns it off). */
  readonly flush: boolean;
  /** Wait for that flush before the index commits and the run exits (--flush-now); else it is owed to the next run (sync/deferred-flush.ts). */
  readonly flushNow?: boolean;
  /** Owner, group and xattrs kept in sync (absent: none; the CLI keeps each unless --no-owner/--no-group/--no-xattrs, owner and group only where the process may chown). */
  readonly keep?: KeptMeta;
  /** Owner or group was asked for but this process may not chown: said once in each run that writes. */
  readonly chownRefused?: boolean;
  /** --ssh: the command that reaches a remote root (absent: TSYNC_SSH, else ssh). */
  readonly sshCommand?: string;
  /** --numeric-ids: owner and group ids are not matched by name across machines. */
  readonly numericIds?: boolean;
  /** --compress and --bwlimit: how a remote root's link carries data (absent: plain, unlimited). */
  readonly link?: LinkOptions;
}
