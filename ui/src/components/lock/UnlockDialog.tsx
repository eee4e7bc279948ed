import { useState } from 'preact/hooks';
import { toApiError, unlockVault } from '../../api';
import type { IpcError } from '../../bindings/IpcError';
import type { LockStatus } from '../../bindings/LockStatus';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';
import { SecretInput } from '../SecretInput';

interface Props {
  /** Why it asks (the action that needs the passphrase). */
  reason: string;
  /** Unlocked (with the status now), or `null` when cancelled. */
  onDone: (status: LockStatus | null) => void;
}

/**
 * Asks for the vault passphrase. The passphrase goes into Rust only, and the field is
 * emptied whatever the outcome. Unlocking here also unlocks the vault for scripts that
 * this app's agent serves.
 */
export function UnlockDialog({ reason, onDone }: Props) {
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (!passphrase || busy) return;
    setBusy(true);
    setError(null);
    const typed = passphrase;
    setPassphrase('');
    try {
      onDone(await unlockVault(typed));
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Unlock Tillkey" titleId="unlock-title" testId="unlock-dialog" onClose={() => onDone(null)} busy={busy}>
      <form class="wizard-form" noValidate onSubmit={submit}>
        <p data-testid="unlock-reason">{reason}</p>
        <div class="field">
          <label class="field-label" for="unlock-passphrase">
            Vault passphrase
          </label>
          <SecretInput
            id="unlock-passphrase"
            name="passphrase"
            label="vault passphrase"
            value={passphrase}
            required
            maxLength={1024}
            invalid={error !== null}
            testPrefix="unlock"
            onInput={setPassphrase}
          />
          <p class="field-help">
            Unlocks this computer’s vault for the window and for scripts, until you lock it, the
            screen locks or it has not been used for the auto-lock time.
          </p>
        </div>
        {error && <ErrorNotice error={error} testId="unlock-error" title="Not unlocked" />}
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={() => onDone(null)} disabled={busy} data-testid="unlock-cancel">
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || !passphrase} data-testid="unlock-submit">
            {busy ? 'Unlocking…' : 'Unlock'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
