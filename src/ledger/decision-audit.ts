// Decisions on requests go to the audit log too (the dashboard's Activity tab and GET /v1/audit read it):
// who approved or denied which request, for whom, and how much. Address `request.<id>`; the state serial is the
// account's current one, since a decision changes no declared value.
import { writeAudit } from '../state/declared/audit.js';
import type { Queryable } from '../state/store.js';

export interface Decision {
  accountId: string;
  requestId: string;
  /** `token:<id>` for a person through the API, `auto-approve` for the group's reserve. */
  actor: string;
  action: 'approve' | 'deny' | 'auto-approve';
  member: string;
  amount: string;
  approvedAmount: string | null;
  reason: string | null;
}

export async function auditDecision(tx: Queryable, d: Decision): Promise<void> {
  const { rows } = await tx.query<{ state_serial: string }>(
    'SELECT state_serial FROM accounts WHERE account_id = $1',
    [d.accountId],
  );
  const status = d.action === 'deny' ? 'denied' : d.action === 'approve' ? 'approved' : 'auto-approved';
  await writeAudit(
    tx,
    {
      accountId: d.accountId,
      stateSerial: Number(rows[0]?.state_serial ?? 0),
      actor: d.actor,
      source: 'api',
      commitSha: null,
    },
    [
      {
        address: `request.${d.requestId}`,
        action: d.action,
        before: JSON.stringify({ member: d.member, amount: d.amount, status: 'pending' }),
        after: JSON.stringify({
          member: d.member,
          status,
          ...(d.approvedAmount === null ? {} : { approvedAmount: d.approvedAmount }),
          ...(d.reason === null ? {} : { reason: d.reason }),
        }),
      },
    ],
  );
}
