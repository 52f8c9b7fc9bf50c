// Which tsync the benchmark measured: the commit, and whether the work tree differed from it.
import { spawnSync } from 'node:child_process';

/** The report files the benchmarks write into the tree themselves: a run after a run is still clean. */
const OWN_OUTPUTS = [':(exclude)bench/results*.md', ':(exclude)bench/watch-results.md'];

/**
 * `<full commit id>` for a clean work tree; `<full commit id>-dirty (uncommitted: …)` when any tracked or
 * untracked, not ignored, file other than the benchmark's own reports differs from that commit (src/,
 * but also bench/, package.json or the lock file change what is measured). `unknown` outside git.
 * @param {string} root
 * @returns {{ commit: string | null, dirty: string[], label: string }}
 */
export function gitStamp(root) {
  const head = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return { commit: null, dirty: [], label: 'unknown (not a git work tree)' };
  const status = spawnSync('git', ['-C', root, 'status', '--porcelain', '--', '.', ...OWN_OUTPUTS], { encoding: 'utf8' });
  const dirty =
    status.status === 0
      ? status.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.slice(3))
      : ['(git status failed)'];
  const commit = head.stdout.trim();
  const shown = dirty.slice(0, 5).join(', ') + (dirty.length > 5 ? `, … ${dirty.length - 5} more` : '');
  return { commit, dirty, label: dirty.length === 0 ? commit : `${commit}-dirty (uncommitted: ${shown})` };
}
