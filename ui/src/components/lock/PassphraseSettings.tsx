import { useState } from 'preact/hooks';
import { changePassphrase, removePassphrase, setAutoLock, setPassphrase, toApiError } from '../../api';
import type { IpcError } from '../../bindings/IpcError';
import type { LockStatus } from '../../bindings/LockStatus';
import { ErrorNotice } from '../ErrorNotice';
import { SecretInput } from '../SecretInput';

interface Props {
  status: LockStatus | null;
  /** The passphrase changed: the new status and what to announce. */
  onChanged: (status: LockStatus, message: string) => void;
}

type Step = 'idle' | 'set' | 'change' | 'remove';

function minutesProblem(value: string): string | null {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) return 'Enter a whole number of minutes.';
  if (n < 0 || n > 10080) return 'Use 0 (never) to 10080 minutes (a week).';
  return null;
}

/**
 * The vault passphrase in Settings: set one (every long-lived secret is then encrypted under
 * it before it reaches the keyring), change it, remove it, and the auto-lock time. Every
 * field is emptied after each try; passphrases go into Rust only.
 */
export function PassphraseSettings({ status, onChanged }: Props) {
  const [step, setStep] = useState<Step>('idle');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [lockTokens, setLockTokens] = useState(false);
  const [minutes, setMinutes] = useState<string | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);

  const has = status?.passphrase ?? false;
  const shownMinutes = minutes ?? String(status?.autoLockMinutes ?? 15);
  const minutesError = minutes === null ? null : minutesProblem(minutes);

  function clear() {
    setCurrent('');
    setNext('');
    setConfirm('');
  }

  async function run(action: () => Promise<LockStatus>, message: string) {
    setBusy(true);
    setError(null);
    try {
      const s = await action();
      clear();
      setStep('idle');
      setMinutes(null);
      onChanged(s, message);
    } catch (err) {
      clear();
      setError(toApiError(err).info);
    } finally {
      setBusy(false);
    }
  }

  const mismatch = next !== '' && confirm !== '' && next !== confirm;
  const field = (id: string, label: string, value: string, set: (v: string) => void, help?: string) => (
    <div class="field">
      <label class="field-label" for={`pp-${id}`}>
        {label}
      </label>
      <SecretInput
        id={`pp-${id}`}
        name={id}
        label={label.toLowerCase()}
        value={value}
        required
        maxLength={1024}
        invalid={id === 'confirm' && mismatch}
        testPrefix="passphrase"
        onInput={set}
      />
      {help && <p class="field-help">{help}</p>}
    </div>
  );

  return (
    <fieldset class="field settings-passphrase" disabled={busy || status === null} data-testid="passphrase-settings">
      <legend class="field-label">Vault passphrase</legend>
      <p class="field-help" data-testid="passphrase-state">
        {status === null
          ? 'Reading the vault…'
          : has
            ? `On: secrets are encrypted under the passphrase before they reach the keyring. ${status.locked ? 'Locked now.' : 'Unlocked now.'}${status.agent ? ' Scripts on this computer are served by this app while it runs.' : ''}`
            : 'Off: anyone at this unlocked desktop can copy or reveal tokens. On a shared till PC, set one.'}
      </p>

      {!has && step !== 'set' && (
        <button type="button" class="btn btn-secondary btn-small" data-testid="passphrase-set-open" onClick={() => setStep('set')}>
          Set a passphrase…
        </button>
      )}
      {has && step === 'idle' && (
        <div class="form-actions form-actions-start">
          <button type="button" class="btn btn-secondary btn-small" data-testid="passphrase-change-open" onClick={() => setStep('change')}>
            Change passphrase…
          </button>
          <button type="button" class="btn btn-secondary btn-small" data-testid="passphrase-remove-open" onClick={() => setStep('remove')}>
            Remove passphrase…
          </button>
        </div>
      )}

      {step === 'set' && (
        <div class="passphrase-step">
          {field('new', 'New passphrase', next, setNext, 'A forgotten passphrase cannot be recovered: the secrets would have to be entered again.')}
          {field('confirm', 'New passphrase again', confirm, setConfirm, mismatch ? 'The two entries differ.' : undefined)}
          <label class="checkbox">
            <input type="checkbox" checked={lockTokens} data-testid="passphrase-lock-tokens" onChange={(e) => setLockTokens(e.currentTarget.checked)} />
            Lock cached access tokens too (scripts then get no token while locked)
          </label>
          <div class="form-actions form-actions-start">
            <button type="button" class="btn btn-secondary btn-small" onClick={() => { clear(); setStep('idle'); }}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-primary btn-small"
              disabled={!next || mismatch || confirm === ''}
              data-testid="passphrase-set"
              onClick={() => void run(() => setPassphrase(next, confirm, lockTokens), 'The vault passphrase is set; every secret is encrypted under it. Tillkey is unlocked.')}
            >
              {busy ? 'Encrypting…' : 'Set passphrase'}
            </button>
          </div>
        </div>
      )}

      {step === 'change' && (
        <div class="passphrase-step">
          {field('current', 'Current passphrase', current, setCurrent)}
          {field('new', 'New passphrase', next, setNext)}
          {field('confirm', 'New passphrase again', confirm, setConfirm, mismatch ? 'The two entries differ.' : undefined)}
          <div class="form-actions form-actions-start">
            <button type="button" class="btn btn-secondary btn-small" onClick={() => { clear(); setStep('idle'); }}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-primary btn-small"
              disabled={!current || !next || mismatch || confirm === ''}
              data-testid="passphrase-change"
              onClick={() => void run(() => changePassphrase(current, next, confirm), 'The vault passphrase is changed.')}
            >
              Change passphrase
            </button>
          </div>
        </div>
      )}

      {step === 'remove' && (
        <div class="passphrase-step">
          {field('current', 'Current passphrase', current, setCurrent, 'Secrets are stored in the keyring in the clear again, readable by anyone at this unlocked desktop.')}
          <div class="form-actions form-actions-start">
            <button type="button" class="btn btn-secondary btn-small" onClick={() => { clear(); setStep('idle'); }}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-danger btn-small"
              disabled={!current}
              data-testid="passphrase-remove"
              onClick={() => void run(() => removePassphrase(current), 'The vault passphrase is removed.')}
            >
              Remove passphrase
            </button>
          </div>
        </div>
      )}

      {has && (
        <div class="field">
          <label class="field-label" for="pp-auto-lock">
            Lock after this many minutes without a Tillkey request
          </label>
          <div class="inline-row">
            <input
              id="pp-auto-lock"
              class="input input-narrow"
              type="number"
              min={0}
              max={10080}
              value={shownMinutes}
              aria-invalid={minutesError ? true : undefined}
              data-testid="passphrase-auto-lock"
              onInput={(e) => setMinutes(e.currentTarget.value)}
            />
            <button
              type="button"
              class="btn btn-secondary btn-small"
              disabled={minutes === null || minutesError !== null}
              data-testid="passphrase-auto-lock-save"
              onClick={() => void run(() => setAutoLock(Number(shownMinutes)), `Tillkey locks after ${shownMinutes} minutes without use.`)}
            >
              Save
            </button>
          </div>
          <p class="field-help">
            {minutesError ? <span class="field-missing">{minutesError}</span> : '0 never locks by time. It also locks when the screen locks or the computer sleeps.'}
          </p>
        </div>
      )}

      {error && <ErrorNotice error={error} testId="passphrase-error" title="The passphrase was not changed" />}
    </fieldset>
  );
}
