import { useState } from 'preact/hooks';
import type { CredentialSummary } from '../../bindings/CredentialSummary';
import type { OldTokenStatus } from '../../bindings/OldTokenStatus';
import type { RotationResult } from '../../bindings/RotationResult';
import { formatDate } from '../../format';
import { ErrorNotice } from '../ErrorNotice';
import { InlineCode } from '../InlineCode';
import { TestReportView } from '../TestReportView';

const OLD_TOKEN_TEXT: Record<OldTokenStatus, string> = {
  revoked: 'Tillkey revoked the old secret’s cached access token at the provider.',
  nothingCached: 'No access token of the old secret was cached, so there was none to revoke.',
  noEndpoint:
    'The provider has no revocation endpoint: Tillkey deleted its copy of the old token, which stays valid at the provider until it expires or you revoke the old secret below.',
  failed: 'The provider did not revoke the old secret’s cached token (see below); the rotation stands.',
};

interface FailedProps {
  credential: CredentialSummary;
  result: RotationResult;
  onClose: () => void;
  onRetry: () => void;
}

/** The new secret failed its test: nothing changed; its report, and another try. */
export function FailedStep({ credential, result, onClose, onRetry }: FailedProps) {
  return (
    <div class="wizard-result" data-testid="wizard-failed">
      <div class="notice notice-error" role="alert">
        <div class="notice-body">
          <p class="notice-title">The new secret failed its test</p>
          <p class="notice-message">
            Nothing was changed: “{credential.name}” still uses its old secret, which keeps working.
            Check the new value (or the portal) and try again.
          </p>
        </div>
      </div>
      <TestReportView report={result.report} testId="wizard-report" />
      <div class="form-actions">
        <button type="button" class="btn btn-secondary" data-testid="wizard-close-failed" onClick={onClose}>
          Close
        </button>
        <button type="button" class="btn btn-primary" data-testid="wizard-retry" onClick={onRetry}>
          Try another secret
        </button>
      </div>
    </div>
  );
}

interface RetireProps {
  credential: CredentialSummary;
  result: RotationResult;
  onDone: () => void;
}

/**
 * The new secret is in use: what happened to the old one's token, and the portal steps to
 * retire the old secret, which the merchant confirms.
 */
export function RetireStep({ credential, result, onDone }: RetireProps) {
  const [confirmed, setConfirmed] = useState(false);
  // The identity fields the rotation changed (a new set), with their old values.
  const retired = Object.entries(result.retiredIdentity);
  const newSet = retired.length > 0;
  const now = (k: string) => result.credential?.fields[k] ?? '';
  const oldNames = retired.map(([k, v]) => `${k} ${v}`).join(', ');
  return (
    <div class="wizard-result" data-testid="wizard-retire">
      <p class="wizard-ok" role="status" data-testid="wizard-swapped">
        <span aria-hidden="true">✓</span>{' '}
        {newSet
          ? `The new set (${retired.map(([k]) => `${k} ${now(k)}`).join(', ')}) passed its test and is now in use.`
          : 'The new secret passed its test and is now in use.'}
      </p>
      <details class="wizard-details">
        <summary>Test of the new secret</summary>
        <TestReportView report={result.report} testId="wizard-report" />
      </details>
      <h3 class="wizard-subtitle">{newSet ? 'Retire the old set' : 'Retire the old secret'}</h3>
      <p data-testid="wizard-old-token" data-status={result.oldToken ?? ''}>
        {newSet && result.oldToken === 'revoked'
          ? 'Tillkey revoked the old set’s cached access token at the provider.'
          : result.oldToken
            ? OLD_TOKEN_TEXT[result.oldToken]
            : ''}
      </p>
      {newSet && (
        <p data-testid="wizard-old-identity">
          {result.oldToken === 'revoked'
            ? `It was revoked with the old set (${oldNames}, and its secret): the token belonged to that client.`
            : `The old set was ${oldNames}; delete it in the portal.`}
        </p>
      )}
      {result.oldTokenError && (
        <ErrorNotice error={{ ...result.oldTokenError, field: null }} testId="wizard-revoke-error" title="Revocation refused" />
      )}
      {result.retireOld && (
        <div class="portal-steps" data-testid="wizard-portal-steps">
          <p class="portal-title">In the {credential.providerLabel} portal:</p>
          <p>
            <InlineCode text={result.retireOld} />
          </p>
        </div>
      )}
      <label class="checkbox">
        <input
          type="checkbox"
          checked={confirmed}
          data-testid="wizard-confirm"
          onChange={(e) => setConfirmed(e.currentTarget.checked)}
        />
        <span>
          {newSet ? 'I have deleted the old set in the portal.' : 'I have revoked or deleted the old secret in the portal.'}
        </span>
      </label>
      <div class="form-actions">
        <button type="button" class="btn btn-primary" disabled={!confirmed} data-testid="wizard-done" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

/** The rotation is complete: when, and when the next one is due. */
export function DoneStep({ rotated, onClose }: { rotated: CredentialSummary; onClose: () => void }) {
  return (
    <div class="wizard-result" data-testid="wizard-done-step">
      <p class="wizard-ok" role="status">
        <span aria-hidden="true">✓</span> “{rotated.name}” was rotated on {formatDate(rotated.rotatedAt)}.
        The next rotation is due {formatDate(rotated.rotation.dueAt)}.
      </p>
      <div class="form-actions">
        <button type="button" class="btn btn-primary" data-testid="wizard-finish" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
