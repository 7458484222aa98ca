// The CSV columns of the history exports, shared by the API and the CLI so both write the same file.
// JSON-valued columns (metadata, before, after) hold their JSON text.
import type { CsvColumns } from '../render/csv.js';
import type { UsageEntry } from './usage-history.js';
import type { AuditEntry } from './audit-history.js';
import type { SummaryRow } from './usage-summary.js';

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export const USAGE_CSV: CsvColumns<UsageEntry> = [
  ['id', (e) => e.id],
  ['member', (e) => e.member],
  ['group', (e) => e.group],
  ['credits', (e) => e.credits],
  ['costUsd', (e) => e.costUsd],
  ['model', (e) => e.model],
  ['cycle', (e) => String(e.cycle)],
  ['at', (e) => e.at],
  ['metadata', (e) => json(e.metadata)],
];

export const SUMMARY_CSV: CsvColumns<SummaryRow> = [
  ['key', (r) => r.key],
  ['bucket', (r) => r.bucket],
  ['credits', (r) => r.credits],
  ['costUsd', (r) => r.costUsd],
  ['entries', (r) => String(r.entries)],
];

export const AUDIT_CSV: CsvColumns<AuditEntry> = [
  ['id', (e) => e.id],
  ['at', (e) => e.at],
  ['actor', (e) => e.actor],
  ['source', (e) => e.source],
  ['commitSha', (e) => e.commitSha],
  ['address', (e) => e.address],
  ['action', (e) => e.action],
  ['before', (e) => json(e.before)],
  ['after', (e) => json(e.after)],
  ['serial', (e) => e.serial],
];
