import { useEffect, useRef, useState } from 'preact/hooks';
import type { CredentialSummary } from '../../bindings/CredentialSummary';
import type { RevokeResult } from '../../bindings/RevokeResult';

interface Props {
  credential: CredentialSummary;
  testing: boolean;
  /** The vault allows reading only: no rotate, mark, edit or remove. */
  readOnly: boolean;
  copying: boolean;
  revealing: boolean;
  /** Whether the token is shown now (the button then hides it). */
  revealed: boolean;
  /** A revoke is running (absent: the row offers no Revoke). */
  revoking?: boolean;
  onTest: () => void;
  onCopy: () => void;
  onReveal: () => void;
  /** Revokes the cached token (shown while there is one). */
  onRevoke?: () => void;
  onRotate: () => void;
  onMarkRotated: () => Promise<void>;
  onEdit: () => void;
  onRemove: () => Promise<void>;
}

/** A row's buttons; removing asks once more in place. */
export function RowActions({ credential: c, testing, readOnly, copying, revealing, revealed, revoking, ...on }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [marking, setMarking] = useState(false);
  const removeRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Move focus into the confirm step and back out of it, so keyboard users keep their place.
  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
    else if (wasConfirming.current) removeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  async function mark() {
    setMarking(true);
    try {
      await on.onMarkRotated();
    } finally {
      setMarking(false);
    }
  }

  async function confirmRemove() {
    setRemoving(true);
    try {
      await on.onRemove();
    } finally {
      setRemoving(false);
      setConfirming(false);
    }
  }

  return (
    <div class="cred-actions" role="group" aria-label={`Actions for ${c.name}`}>
      <button
        type="button"
        class="btn btn-secondary btn-small"
        disabled={testing}
        aria-label={`Test ${c.name}`}
        data-testid="test-button"
        onClick={on.onTest}
      >
        {testing ? 'Testing…' : 'Test'}
      </button>
      <button
        type="button"
        class="btn btn-secondary btn-small"
        disabled={copying}
        aria-label={`Copy a token of ${c.name}`}
        data-testid="copy-button"
        onClick={on.onCopy}
      >
        {copying ? 'Getting token…' : 'Copy token'}
      </button>
      <button
        type="button"
        class="btn btn-ghost btn-small"
        disabled={revealing}
        aria-pressed={revealed}
        aria-label={revealed ? `Hide the token of ${c.name}` : `Reveal a token of ${c.name}`}
        data-testid="reveal-button"
        onClick={on.onReveal}
      >
        {revealed ? 'Hide token' : 'Reveal'}
      </button>
      {on.onRevoke && (c.token !== null || revoking) && (
        <button
          type="button"
          class="btn btn-ghost btn-small"
          disabled={revoking}
          aria-label={`Revoke the cached token of ${c.name}`}
          data-testid="revoke-button"
          onClick={on.onRevoke}
        >
          {revoking ? 'Revoking…' : 'Revoke token'}
        </button>
      )}
      <button
        type="button"
        class={`btn btn-small ${c.rotation.status === 'ok' ? 'btn-ghost' : 'btn-primary'}`}
        disabled={readOnly}
        aria-label={`Rotate ${c.name}`}
        data-testid="rotate-button"
        onClick={on.onRotate}
      >
        Rotate…
      </button>
      <button
        type="button"
        class="btn btn-ghost btn-small"
        disabled={marking || readOnly}
        aria-label={`Mark ${c.name} as rotated today`}
        data-testid="mark-rotated-button"
        onClick={() => void mark()}
      >
        Mark as rotated
      </button>
      <button
        type="button"
        class="btn btn-ghost btn-small"
        disabled={readOnly}
        aria-label={`Edit ${c.name}`}
        data-testid="edit-button"
        onClick={on.onEdit}
      >
        Edit
      </button>
      {confirming ? (
        <span class="confirm" role="group" aria-label={`Confirm removing ${c.name}`}>
          <span class="confirm-text">Remove?</span>
          <button
            type="button"
            class="btn btn-danger btn-small"
            disabled={removing}
            aria-label={`Yes, remove ${c.name} and its secrets`}
            data-testid="confirm-remove-button"
            onClick={() => void confirmRemove()}
          >
            {removing ? 'Removing…' : 'Remove'}
          </button>
          <button
            ref={cancelRef}
            type="button"
            class="btn btn-ghost btn-small"
            disabled={removing}
            aria-label={`Keep ${c.name}`}
            data-testid="cancel-remove-button"
            onClick={() => setConfirming(false)}
          >
            Keep
          </button>
        </span>
      ) : (
        <button
          ref={removeRef}
          type="button"
          class="btn btn-ghost btn-small btn-remove"
          disabled={readOnly}
          aria-label={`Remove ${c.name}`}
          data-testid="remove-button"
          onClick={() => setConfirming(true)}
        >
          Remove
        </button>
      )}
    </div>
  );
}

interface RevokeStatusProps {
  name: string;
  result: RevokeResult | null;
  onDismiss: () => void;
}

/** What Revoke did, in the words of `tillkey revoke`. */
export function RevokeStatus({ name, result, onDismiss }: RevokeStatusProps) {
  if (!result) return null;
  const muted = result.outcome !== 'revoked';
  return (
    <p class={muted ? 'inline-status inline-status-muted' : 'inline-status'} data-testid="revoke-status" data-outcome={result.outcome}>
      {result.outcome === 'revoked' && (
        <>
          <span aria-hidden="true">✓</span> Revoked the cached access token of {name} at the provider. The next copy
          or test gets a new one.
        </>
      )}
      {result.outcome === 'nothingCached' && <>{name} has no cached access token; nothing to revoke.</>}
      {result.outcome === 'noEndpoint' && (
        <>
          Discarded the cached token of {name}. Its provider has no revocation endpoint, so the token stays valid
          there until it expires. To retire the secret itself: {result.portalSteps}
        </>
      )}{' '}
      <button type="button" class="btn btn-ghost btn-small" aria-label="Dismiss the revoke result" onClick={onDismiss}>
        Dismiss
      </button>
    </p>
  );
}
