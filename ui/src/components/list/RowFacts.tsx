import type { CredentialSummary } from '../../bindings/CredentialSummary';
import { ago, rotationText, tokenStatus } from '../../format';
import { SecretAgeFact } from '../age/SecretAgeFact';

interface Props {
  credential: CredentialSummary;
  /** "Now" in ms on the app's clock. */
  now: number;
  testing: boolean;
  vaultLabel: string | null;
  readOnly: boolean;
}

/** A row's status at a glance: token, rotation, last test and (with team vaults) the vault. */
export function RowFacts({ credential: c, now, testing, vaultLabel, readOnly }: Props) {
  const token = tokenStatus(c, now);
  const rotation = rotationText(c.rotation);
  const last = c.lastTest;
  const failedStage = last?.stages.find((s) => !s.ok);
  return (
    <dl class="facts">
      <div class="fact" data-testid="cell-token" data-tone={token.tone}>
        <dt>Token</dt>
        <dd>
          <span class={`tone tone-${token.tone}`}>{token.text}</span>
          <span class="fact-detail">{token.detail}</span>
        </dd>
      </div>
      <div class="fact" data-testid="cell-rotation" data-status={c.rotation.status}>
        <dt>Rotation</dt>
        <dd>
          <span class={`status status-${c.rotation.status}`} data-status={c.rotation.status}>
            <span class="status-dot" aria-hidden="true" />
            {rotation.label}
          </span>
          <span class="fact-detail">
            {rotation.detail} · every {c.rotationPeriodDays} days
          </span>
        </dd>
      </div>
      <SecretAgeFact credential={c} now={now} />
      <div class="fact" data-testid="cell-test" data-ok={last ? String(last.ok) : ''}>
        <dt>Last test</dt>
        <dd>
          {testing ? (
            <span class="tone tone-muted">Testing…</span>
          ) : last ? (
            <span class={`tone tone-${last.ok ? 'ok' : 'bad'}`}>
              {last.ok ? '✓ Passed' : `✕ Failed${failedStage?.code ? `: ${failedStage.code}` : ''}`}
            </span>
          ) : (
            <span class="tone tone-muted">Never tested</span>
          )}
          <span class="fact-detail">{last ? ago(last.testedAt, now) : 'Run Test to check it'}</span>
        </dd>
      </div>
      {vaultLabel !== null && (
        <div class="fact" data-testid="cell-vault">
          <dt>Vault</dt>
          <dd>
            <span class="tone tone-muted">{vaultLabel}</span>
            {readOnly && <span class="fact-detail">read-only for you</span>}
          </dd>
        </div>
      )}
    </dl>
  );
}
