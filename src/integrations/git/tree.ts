/** Building a tree in a clone's index: a start commit's tree with some entries replaced, added or removed. */
import { runGit } from './runGit.js';

/**
 * The tree of `start` with the entries of `indexInfo` applied (`git update-index --index-info -z` lines:
 * `<mode> <object>\t<path>\0`, mode 0 removing the path). `indexInfo` runs after the index holds `start`, so it
 * may read it (a rewritten script keeps its mode). Uses the clone's index: the caller holds the clone's lock.
 */
export async function treeWithIndexInfo(
  dir: string,
  start: string,
  indexInfo: () => Promise<string>,
  signal: AbortSignal,
): Promise<string> {
  await runGit(['read-tree', start], { cwd: dir, signal });
  const info = await indexInfo();
  if (info !== '') await runGit(['update-index', '-z', '--index-info'], { cwd: dir, signal, input: info });
  const { stdout } = await runGit(['write-tree'], { cwd: dir, signal });
  return stdout.trim();
}
