import { useEffect, useState } from 'preact/hooks';
import { getDesktopSettings, getSettings, setDesktopSettings, setSettings, toApiError } from '../api';
import type { DesktopSettings } from '../bindings/DesktopSettings';
import type { IpcError } from '../bindings/IpcError';
import type { LockStatus } from '../bindings/LockStatus';
import type { VaultSettings } from '../bindings/VaultSettings';
import { ErrorNotice } from './ErrorNotice';
import { PassphraseSettings } from './lock/PassphraseSettings';
import { Modal } from './Modal';

interface Props {
  onSaved: (settings: VaultSettings) => void;
  onClose: () => void;
  /** The vault passphrase's state (`null` while unknown). */
  lock: LockStatus | null;
  /** The passphrase or its auto-lock time changed. */
  onLockChanged: (status: LockStatus, message: string) => void;
}

function daysProblem(value: string, min: number, max: number): string | null {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) return 'Enter a whole number of days.';
  if (n < min || n > max) return `Use ${min} to ${max} days.`;
  return null;
}

/**
 * Reminder lead time and default rotation period, kept in the vault so the CLI agrees; and
 * this computer's desktop settings (keep running in the tray, start at login) and the vault
 * passphrase (its own buttons: it is changed at once, not with Save).
 */
export function SettingsDialog({ onSaved, onClose, lock, onLockChanged }: Props) {
  const [lead, setLead] = useState('');
  const [period, setPeriod] = useState('');
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const [saving, setSaving] = useState(false);
  const [desktop, setDesktop] = useState<DesktopSettings | null>(null);
  const [closeToTray, setCloseToTray] = useState(true);
  const [autostart, setAutostart] = useState(false);

  useEffect(() => {
    getDesktopSettings()
      .then((d) => {
        setDesktop(d);
        setCloseToTray(d.closeToTray);
        setAutostart(d.autostart);
      })
      .catch((err) => setError(toApiError(err).info));
  }, []);

  useEffect(() => {
    getSettings()
      .then((s) => {
        setLead(String(s.reminderLeadDays));
        setPeriod(String(s.defaultRotationDays));
        setLoaded(true);
      })
      .catch((err) => setError(toApiError(err).info));
  }, []);

  const leadProblem = loaded ? daysProblem(lead, 0, 365) : null;
  const periodProblem = loaded ? daysProblem(period, 1, 3650) : null;

  async function save(e: Event) {
    e.preventDefault();
    if (leadProblem || periodProblem || !loaded) return;
    setSaving(true);
    try {
      if (desktop && (closeToTray !== desktop.closeToTray || autostart !== desktop.autostart)) {
        setDesktop(await setDesktopSettings({ closeToTray, autostart }));
      }
      const saved = await setSettings({ reminderLeadDays: Number(lead), defaultRotationDays: Number(period) });
      onSaved(saved);
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setSaving(false);
    }
  }

  return (
    <Modal title="Settings" titleId="settings-title" testId="settings-dialog" onClose={onClose} busy={saving}>
      <form class="wizard-form" noValidate onSubmit={save}>
        <p>The first two live in the vault, so the app and the `tillkey` CLI report the same status.</p>
        <div class="field">
          <label class="field-label" for="settings-lead">
            Remind me this many days before a rotation is due
          </label>
          <input
            id="settings-lead"
            class="input"
            type="number"
            min={0}
            max={365}
            value={lead}
            disabled={!loaded}
            aria-invalid={leadProblem ? true : undefined}
            aria-describedby="settings-lead-help"
            data-testid="settings-lead"
            onInput={(e) => setLead(e.currentTarget.value)}
          />
          <p class="field-help" id="settings-lead-help">
            {leadProblem ? <span class="field-missing">{leadProblem}</span> : 'Default 14. A desktop notification comes at most once a day per credential.'}
          </p>
        </div>
        <div class="field">
          <label class="field-label" for="settings-period">
            Rotation period for new credentials (days)
          </label>
          <input
            id="settings-period"
            class="input"
            type="number"
            min={1}
            max={3650}
            value={period}
            disabled={!loaded}
            aria-invalid={periodProblem ? true : undefined}
            aria-describedby="settings-period-help"
            data-testid="settings-period"
            onInput={(e) => setPeriod(e.currentTarget.value)}
          />
          <p class="field-help" id="settings-period-help">
            {periodProblem ? <span class="field-missing">{periodProblem}</span> : 'Default 90. Each credential’s own period is set in its Edit form.'}
          </p>
        </div>
        <fieldset class="field settings-desktop" disabled={!desktop}>
          <legend class="field-label">On this computer</legend>
          <label class="checkbox">
            <input
              type="checkbox"
              checked={closeToTray && (desktop?.tray.available ?? false)}
              disabled={!desktop?.tray.available}
              data-testid="settings-close-to-tray"
              onChange={(e) => setCloseToTray(e.currentTarget.checked)}
            />
            Keep Tillkey in the tray when the window closes, so reminders still arrive
          </label>
          <p class="field-help" data-testid="settings-tray-reason">
            {desktop?.tray.available
              ? 'Quit from the tray menu. The window is rebuilt when you open it again.'
              : (desktop?.tray.reason ?? '')}
          </p>
          <label class="checkbox">
            <input
              type="checkbox"
              checked={autostart}
              data-testid="settings-autostart"
              onChange={(e) => setAutostart(e.currentTarget.checked)}
            />
            Start Tillkey when I log in (in the tray, without a window)
          </label>
        </fieldset>
        <PassphraseSettings status={lock} onChanged={onLockChanged} />
        {error && <ErrorNotice error={error} testId="settings-error" title="Could not save the settings" />}
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose} disabled={saving} data-testid="settings-cancel">
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={saving || !loaded} data-testid="settings-save">
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
