import { useEffect, useState } from 'preact/hooks';
import { auditLog, exportAuditLog, toApiError, verifyAuditLog } from '../../api';
import type { AuditAction } from '../../bindings/AuditAction';
import type { AuditCheck } from '../../bindings/AuditCheck';
import type { AuditEntry } from '../../bindings/AuditEntry';
import type { AuditOrigin } from '../../bindings/AuditOrigin';
import type { AuditQuery } from '../../bindings/AuditQuery';
import type { IpcError } from '../../bindings/IpcError';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';

/** Table cells: left-aligned, a little room between columns. */
const CELL = { textAlign: 'left', padding: '2px 12px 2px 0', whiteSpace: 'nowrap' } as const;

const ACTIONS: AuditAction[] = [
  'reveal',
  'copy',
  'token',
  'exec',
  'test',
  'refresh',
  'rotate',
  'revoke',
  'import',
  'remove',
  'add',
  'edit',
  'mark-rotated',
];

/** Where an entry came from, as `tillkey log` words it. */
export function originText(o: AuditOrigin): string {
  if (o.kind === 'window') return 'window';
  const extra = [o.pid !== undefined ? `pid ${o.pid}` : null, o.via ?? null].filter(Boolean).join(', ');
  return `${o.kind}${o.command ? ` ${o.command}` : ''}${extra ? ` (${extra})` : ''}`;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

interface Props {
  onClose: () => void;
}

/**
 * The audit log: every reveal, copy, token, exec, test, refresh, rotate, revoke, import and
 * remove, newest first, filtered by credential, action and date; the chain check; and an
 * export of what is shown as JSON lines (written by Rust to the Downloads folder).
 */
export function AuditLogView({ onClose }: Props) {
  const [names, setNames] = useState<string[]>([]);
  const [credential, setCredential] = useState('');
  const [action, setAction] = useState<AuditAction | ''>('');
  const [since, setSince] = useState('');
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [total, setTotal] = useState(0);
  const [unreadable, setUnreadable] = useState(0);
  const [error, setError] = useState<IpcError | null>(null);
  const [check, setCheck] = useState<AuditCheck | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const query = (): AuditQuery => ({
    credential: credential || null,
    action: action || null,
    since: since ? new Date(`${since}T00:00:00`).toISOString() : null,
    until: null,
  });

  useEffect(() => {
    // Every name in the log, for the credential filter (removed ones included).
    auditLog({ credential: null, action: null, since: null, until: null })
      .then((page) => setNames([...new Set(page.entries.map((e) => e.credential.name))].sort()))
      .catch(() => setNames([]));
  }, []);

  useEffect(() => {
    let live = true;
    setError(null);
    auditLog(query())
      .then((page) => {
        if (!live) return;
        setEntries(page.entries);
        setTotal(page.total);
        setUnreadable(page.unreadable);
      })
      .catch((err) => live && setError(toApiError(err).info));
    return () => {
      live = false;
    };
  }, [credential, action, since]);

  const verify = async () => {
    setBusy(true);
    setCheck(null);
    try {
      setCheck(await verifyAuditLog());
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setBusy(false);
    }
  };

  const doExport = async () => {
    setBusy(true);
    setExported(null);
    try {
      const r = await exportAuditLog(query());
      setExported(`Exported ${r.count} entries to ${r.path}`);
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Audit log" titleId="audit-log-title" testId="audit-log" onClose={onClose} busy={busy} wide>
      <p class="muted">
        What was done with each credential, from this window and from the command line (`tillkey log`). No secret is
        ever recorded.
      </p>
      <div class="toolbar" role="search" aria-label="Filter the audit log">
        <label class="visually-hidden" for="audit-credential">
          Credential
        </label>
        <select
          id="audit-credential"
          class="input select select-compact"
          value={credential}
          data-testid="audit-filter-credential"
          onChange={(e) => setCredential(e.currentTarget.value)}
        >
          <option value="">All credentials</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <label class="visually-hidden" for="audit-action">
          Action
        </label>
        <select
          id="audit-action"
          class="input select select-compact"
          value={action}
          data-testid="audit-filter-action"
          onChange={(e) => setAction(e.currentTarget.value as AuditAction | '')}
        >
          <option value="">All actions</option>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <label class="inline-label" for="audit-since">
          Since
        </label>
        <input
          id="audit-since"
          class="input"
          style={{ width: 'auto' }}
          type="date"
          value={since}
          data-testid="audit-filter-since"
          onInput={(e) => setSince(e.currentTarget.value)}
        />
        <button type="button" class="btn btn-small" disabled={busy} data-testid="audit-verify" onClick={verify}>
          Check chain
        </button>
        <button type="button" class="btn btn-small" disabled={busy} data-testid="audit-export" onClick={doExport}>
          Export JSON lines
        </button>
      </div>
      {error && <ErrorNotice error={error} testId="audit-error" title="The audit log could not be read" />}
      {check && (
        <p
          class={check.intact ? 'notice' : 'notice notice-error'}
          role="status"
          data-testid="audit-check"
          data-intact={String(check.intact)}
        >
          {check.message}
        </p>
      )}
      {exported && (
        <p class="notice" role="status" data-testid="audit-exported">
          {exported}
        </p>
      )}
      {unreadable > 0 && (
        <p class="notice notice-error" data-testid="audit-unreadable">
          {unreadable} line(s) of the log are not entries: check the chain.
        </p>
      )}
      {entries === null ? (
        <p class="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p class="muted" data-testid="audit-empty">
          No entries.
        </p>
      ) : (
        <div style={{ maxHeight: '60vh', overflow: 'auto' }}>
          <p class="muted" data-testid="audit-count">
            {total === entries.length ? `${total} entries` : `Newest ${entries.length} of ${total} entries`}
          </p>
          <table class="audit-table" style={{ width: '100%', borderCollapse: 'collapse' }} data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col" style={CELL}>#</th>
                <th scope="col" style={CELL}>Time</th>
                <th scope="col" style={CELL}>Action</th>
                <th scope="col" style={CELL}>Credential</th>
                <th scope="col" style={CELL}>Origin</th>
                <th scope="col" style={CELL}>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr
                  key={e.seq}
                  data-testid="audit-row"
                  data-action={e.action}
                  data-credential={e.credential.name}
                  data-origin={e.origin.kind}
                  data-outcome={e.outcome}
                >
                  <td style={CELL}>{e.seq}</td>
                  <td style={CELL}>{when(e.time)}</td>
                  <td style={CELL}>{e.action}</td>
                  <td style={CELL}>{e.vault === 'local' ? e.credential.name : `${e.vault}/${e.credential.name}`}</td>
                  <td style={CELL}>{originText(e.origin)}</td>
                  <td style={CELL}>{e.detail ? `${e.outcome} (${e.detail})` : e.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Modal>
  );
}
