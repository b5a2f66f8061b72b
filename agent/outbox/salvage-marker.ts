/**
 * A salvage cut short (power cut, full card) is done again at the next open: a marker file
 * names the moved-aside store until the salvage finished. Rows copied the first time come
 * twice (same ids: the county drops the duplicates); none is left behind.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import type { Recovery } from './open-store.js';
import { salvageRows, type SalvageReport, type SalvagedRow } from './salvage.js';

/**
 * Salvages the moved-aside store of this open (`recovered`), or of an earlier open whose
 * salvage was cut short; returns the recovery to report (null: nothing to salvage).
 */
export function resumeSalvage(
  dir: string,
  recovered: Recovery | null,
  salvage: (movedTo: string) => SalvageReport,
): Recovery | null {
  const marker = join(dir, 'outbox.db.salvaging');
  const unfinished = !recovered && existsSync(marker) ? readFileSync(marker, 'utf8').trim() : null;
  const recovery = unfinished ? { reason: 'an earlier salvage was cut short', movedTo: unfinished } : recovered;
  if (!recovery) return null;
  try {
    writeFileDurably(marker, recovery.movedTo);
  } catch {
    // no room for the marker either: salvage anyway, this once
  }
  try {
    recovery.salvage = salvage(recovery.movedTo);
    rmSync(marker, { force: true });
  } catch (err) {
    // The agent runs on (its local alarms do not need the old backlog); the next open tries again.
    recovery.salvageError = (err as Error).message;
  }
  return recovery;
}

/** Reads a moved-aside store's rows and hands them to `insert` a thousand at a time (one transaction each). */
export function copySalvaged(file: string, insert: (rows: SalvagedRow[]) => void): SalvageReport {
  const batch: SalvagedRow[] = [];
  const report = salvageRows(file, (row) => {
    batch.push(row);
    if (batch.length >= 1000) insert(batch.splice(0));
  });
  if (batch.length > 0) insert(batch);
  return report;
}
