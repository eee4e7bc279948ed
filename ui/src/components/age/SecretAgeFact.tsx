import type { CredentialSummary } from '../../bindings/CredentialSummary';
import type { SecretAge } from '../../bindings/SecretAge';
import { formatDate, plural, span } from '../../format';

interface Props {
  credential: CredentialSummary;
  /** "Now" in ms on the app's clock. */
  now: number;
}

/** One secret's age in words: "Pre-shared key: 100 days", with its own expiry if it has one. */
function ageLine(a: SecretAge, now: number): string {
  // ts-rs may type i64 as bigint; serde_json always sends a JSON number.
  const parts = [`${a.label}: ${plural(Number(a.ageDays), 'day')}`];
  if (a.expiresAt) {
    const left = new Date(a.expiresAt).getTime() - now;
    parts.push(left > 0 ? `expires in ${span(left)}` : `expired ${formatDate(a.expiresAt)}`);
  }
  if (!a.rotates) parts.push('renewed by the provider');
  return parts.join(' · ');
}

/**
 * A row's "Secret age" fact: the age of the oldest long-lived secret (the one the rotation
 * status follows), then each secret's age, its own expiry (a PAT in JWT form) and the
 * refresh token's age. Dates only; never a secret.
 */
export function SecretAgeFact({ credential: c, now }: Props) {
  const ages = c.secretAges;
  if (ages.length === 0) return null;
  const rotating = ages.filter((a) => a.rotates);
  const oldest = rotating.find((a) => a.oldest) ?? rotating[0];
  const expired = ages.some((a) => a.expiresAt && new Date(a.expiresAt).getTime() <= now);
  return (
    <div class="fact" data-testid="cell-secret-age" data-status={c.rotation.status}>
      <dt>Secret age</dt>
      <dd>
        {oldest && (
          <span class={`tone tone-${expired ? 'bad' : 'muted'}`} title="The rotation status follows the oldest secret">
            {plural(Number(oldest.ageDays), 'day')}
            {rotating.length > 1 ? ` (${oldest.label})` : ''}
          </span>
        )}
        {ages.map((a) => (
          <span
            key={a.field}
            class="fact-detail"
            data-testid="secret-age"
            data-field={a.field}
            data-age-days={String(a.ageDays)}
            data-oldest={String(a.oldest)}
          >
            {ageLine(a, now)}
          </span>
        ))}
      </dd>
    </div>
  );
}
