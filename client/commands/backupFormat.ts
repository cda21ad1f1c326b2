/** The table `kubeha backup list` prints. */
import type { BackupRecord } from '../../activities/backup/types';

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** One line per backup, newest first: id, time, revision, size, keys, host. */
export function formatBackups(records: readonly BackupRecord[]): string {
  if (records.length === 0) return 'no backups\n';
  const rows = [
    ['BACKUP', 'CREATED', 'REVISION', 'SIZE', 'KEYS', 'HOST'],
    ...records.map((r) => [r.backupId, r.createdAt, String(r.revision), size(r.bytes), String(r.totalKeys), r.host]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
