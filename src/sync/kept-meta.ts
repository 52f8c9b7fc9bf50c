import type { KeptMeta } from '../core/types.js';
import { mayChown } from '../fs/owner.js';

/** What a run keeps of what was asked: owner and group only where this process may chown (fs/owner.ts). */
export function keptMetaOf(asked: KeptMeta): { readonly keep: KeptMeta; readonly chownRefused: boolean } {
  const wantsOwnership = asked.owner || asked.group;
  const may = wantsOwnership && mayChown();
  return { keep: { owner: asked.owner && may, group: asked.group && may, xattrs: asked.xattrs }, chownRefused: wantsOwnership && !may };
}

/** The once-per-run line for a run that writes while owners cannot be kept. */
export const CHOWN_REFUSED_WARNING = 'owner and group are not kept: only root (or a process with CAP_CHOWN) may set them; --no-owner --no-group turn this off';
