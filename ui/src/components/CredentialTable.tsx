import { useEffect, useRef, useState } from 'preact/hooks';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import { environmentLabel, formatDate, rotationText } from '../format';

interface Props {
  credentials: CredentialSummary[];
  /** Name of a credential to highlight (just added). */
  highlight: string | null;
  /** Resolves when the removal finished (successfully or not). */
  onRemove: (name: string) => Promise<void>;
}

/** The vault's credentials, one row each, with a two-step Remove. */
export function CredentialTable({ credentials, highlight, onRemove }: Props) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  async function confirmRemove(name: string) {
    setRemoving(name);
    try {
      await onRemove(name);
    } finally {
      setRemoving(null);
      setConfirming(null);
    }
  }

  return (
    <div class="table-wrap">
      <table class="table" data-testid="credential-list">
        <caption class="visually-hidden">Credentials in this vault</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Provider</th>
            <th scope="col">Environment</th>
            <th scope="col">Rotation</th>
            <th scope="col">Created</th>
            <th scope="col" class="col-actions">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {credentials.map((c) => (
            <Row
              key={c.id}
              credential={c}
              highlighted={c.name === highlight}
              confirming={confirming === c.name}
              removing={removing === c.name}
              onAskRemove={() => setConfirming(c.name)}
              onCancelRemove={() => setConfirming(null)}
              onConfirmRemove={() => void confirmRemove(c.name)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface RowProps {
  credential: CredentialSummary;
  highlighted: boolean;
  confirming: boolean;
  removing: boolean;
  onAskRemove: () => void;
  onCancelRemove: () => void;
  onConfirmRemove: () => void;
}

function Row({
  credential: c,
  highlighted,
  confirming,
  removing,
  onAskRemove,
  onCancelRemove,
  onConfirmRemove,
}: RowProps) {
  const rotation = rotationText(c.rotation);
  const removeRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Move focus into the confirm step and back out of it, so keyboard users keep their place.
  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
    else if (wasConfirming.current) removeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  return (
    <tr
      class={highlighted ? 'row row-highlight' : 'row'}
      data-testid="credential-row"
      data-name={c.name}
    >
      <th scope="row" class="cell-name" data-testid="cell-name">
        <span class="cred-name">{c.name}</span>
        {c.secretFields.length > 0 && (
          <span class="cred-secrets">
            {`${c.secretFields.join(', ')} in keyring`}
          </span>
        )}
      </th>
      <td data-testid="cell-provider">
        <span class="provider-label">{c.providerLabel}</span>
        <span class="provider-kind">{c.provider}</span>
      </td>
      <td data-testid="cell-environment">
        <span class={`env-badge env-${c.environment}`}>{environmentLabel(c.environment)}</span>
      </td>
      <td data-testid="cell-rotation">
        <span
          class={`status status-${c.rotation.status}`}
          data-status={c.rotation.status}
          title={rotation.detail}
        >
          <span class="status-dot" aria-hidden="true" />
          {rotation.label}
        </span>
        <span class="status-detail">{rotation.detail}</span>
      </td>
      <td data-testid="cell-created">
        <time dateTime={c.createdAt} title={c.createdAt}>
          {formatDate(c.createdAt)}
        </time>
      </td>
      <td class="col-actions">
        {confirming ? (
          <div class="confirm" role="group" aria-label={`Confirm removing ${c.name}`}>
            <span class="confirm-text">Remove?</span>
            <button
              type="button"
              class="btn btn-danger btn-small"
              disabled={removing}
              aria-label={`Yes, remove ${c.name} and its secrets`}
              data-testid="confirm-remove-button"
              onClick={onConfirmRemove}
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
              onClick={onCancelRemove}
            >
              Keep
            </button>
          </div>
        ) : (
          <button
            ref={removeRef}
            type="button"
            class="btn btn-ghost btn-small btn-remove"
            aria-label={`Remove ${c.name}`}
            data-testid="remove-button"
            onClick={onAskRemove}
          >
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}
