import { useState } from 'preact/hooks';
import { AuditLogView } from './AuditLogView';

/** The top bar's "Log" button and the audit log it opens. */
export function AuditLogButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        class="btn btn-ghost btn-small"
        data-testid="open-audit-log"
        title="What was done with each credential, and from where"
        onClick={() => setOpen(true)}
      >
        Log…
      </button>
      {open && <AuditLogView onClose={() => setOpen(false)} />}
    </>
  );
}
