import type { CredentialSummary } from '../../bindings/CredentialSummary';
import type { TestReport } from '../../bindings/TestReport';
import { environmentLabel } from '../../format';
import { useTokenActions } from '../../hooks/useTokenActions';
import { ErrorNotice } from '../ErrorNotice';
import { TestReportView } from '../TestReportView';
import { RevokeStatus, RowActions } from './RowActions';
import { RowFacts } from './RowFacts';

/** What a row can ask the dashboard to do, by credential name. */
export interface RowHandlers {
  onTest: (name: string) => void;
  onHideReport: (name: string) => void;
  onRotate: (name: string) => void;
  onMarkRotated: (name: string) => Promise<void>;
  onEdit: (name: string) => void;
  onRemove: (name: string) => Promise<void>;
  /** A token was fetched or reused (copy, reveal): the token status changed. */
  onTokenUsed: () => void;
}

interface Props extends RowHandlers {
  credential: CredentialSummary;
  now: number;
  highlighted: boolean;
  report: TestReport | undefined;
  testing: boolean;
  vaultLabel: string | null;
  readOnly: boolean;
}

/** One credential: its status, its actions, and its open test report. */
export function CredentialRow({ credential: c, now, highlighted, report, testing, vaultLabel, readOnly, ...a }: Props) {
  const token = useTokenActions(c.name, a.onTokenUsed);
  const headingId = `cred-${c.id}`;

  return (
    <li
      class={highlighted ? 'cred cred-highlight' : 'cred'}
      data-testid="credential-row"
      data-name={c.name}
      aria-labelledby={headingId}
    >
      <div class="cred-top">
        <div class="cred-title">
          <h3 class="cred-name" id={headingId} data-testid="cell-name">
            {c.name}
          </h3>
          <span class={`env-badge env-${c.environment}`} data-testid="cell-environment">
            {environmentLabel(c.environment)}
          </span>
        </div>
        <p class="cred-provider" data-testid="cell-provider">
          <span class="provider-label">{c.providerLabel}</span> <code class="provider-kind">{c.provider}</code>
        </p>
      </div>

      <RowFacts credential={c} now={now} testing={testing} vaultLabel={vaultLabel} readOnly={readOnly} />

      <RowActions
        credential={c}
        testing={testing}
        readOnly={readOnly}
        copying={token.copying}
        revealing={token.revealing}
        revealed={token.revealed !== null}
        revoking={token.revoking}
        onTest={() => a.onTest(c.name)}
        onCopy={() => void token.copy()}
        onReveal={() => void token.reveal()}
        onRevoke={() => void token.revoke()}
        onRotate={() => a.onRotate(c.name)}
        onMarkRotated={() => a.onMarkRotated(c.name)}
        onEdit={() => a.onEdit(c.name)}
        onRemove={() => a.onRemove(c.name)}
      />

      <div aria-live="polite">
        {token.clearsIn !== null && (
          <p class="inline-status" data-testid="copy-status">
            <span aria-hidden="true">✓</span> Copied, clears in {token.clearsIn} s
          </p>
        )}
        {token.copied && token.clearsIn === null && (
          <p class="inline-status inline-status-muted" data-testid="copy-status" data-cleared="true">
            Clipboard cleared (if it still held the token).
          </p>
        )}
        <RevokeStatus name={c.name} result={token.revoked} onDismiss={token.dismissRevoked} />
      </div>

      {token.revealed !== null && (
        <div class="revealed">
          <label class="field-label" for={`revealed-${c.id}`}>
            Access token of {c.name} (hides in a minute)
          </label>
          <textarea
            id={`revealed-${c.id}`}
            class="input revealed-token"
            readOnly
            rows={2}
            value={token.revealed}
            data-testid="revealed-token"
          />
        </div>
      )}

      {token.error && (
        <ErrorNotice error={token.error.info} testId="row-error" title={token.error.title} onDismiss={token.dismissError} />
      )}

      {report && <TestReportView report={report} onClose={() => a.onHideReport(c.name)} />}
    </li>
  );
}
