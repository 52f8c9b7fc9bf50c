import type { KeptMeta } from '../core/types.js';
import { mayChown } from '../fs/owner.js';

/** What a run keeps of what was asked: owner and group only where this process may chown (fs/owner.ts). */
export function keptMetaOf(asked: KeptMeta): { readonly keep: KeptMeta; readonly chownRefused: boolean } {
  const wantsOwnership = asked.owner || asked.group;
  const may = wantsOwnership && mayChown();
  return { keep: { owner: asked.owner && may, group: asked.group && may, xattrs: asked.xattrs }, chownRefused: wantsOwnership && !may };
}
