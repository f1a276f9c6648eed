/**
 * Runs a deleting statement batch after batch, each its own short statement (its own transaction), until one
 * deletes fewer than a full batch or `maxBatches` ran. Pruning never holds more than one batch's locks: a
 * hot-path write waits at most for one batch, and a row a worker holds is skipped (`SKIP LOCKED` in the
 * statements), never waited for.
 */
export async function inBatches(
  deleteBatch: () => Promise<number>,
  o: { size: number; maxBatches: number },
): Promise<{ deleted: number; batches: number }> {
  let deleted = 0;
  let batches = 0;
  while (batches < o.maxBatches) {
    const n = await deleteBatch();
    batches += 1;
    deleted += n;
    if (n < o.size) break;
  }
  return { deleted, batches };
}
