import { useState } from 'preact/hooks';
import { disconnectTeamVault, toApiError } from '../../api';
import type { IpcError } from '../../bindings/IpcError';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';

interface Props {
  /** The team vault to disconnect. */
  name: string;
  /** Called once this machine no longer knows the vault. */
  onDisconnected: (name: string) => void;
  onClose: () => void;
}

/** Asks before forgetting a team vault on this computer (as `tillkey vault disconnect`). */
export function DisconnectDialog({ name, onDisconnected, onClose }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);

  async function disconnect() {
    setError(null);
    setBusy(true);
    try {
      await disconnectTeamVault(name);
      onDisconnected(name);
    } catch (err) {
      setError(toApiError(err).info);
      setBusy(false);
    }
  }

  return (
    <Modal title={`Disconnect team vault ${name}?`} titleId="team-disconnect-title" testId="team-disconnect-dialog" onClose={onClose} busy={busy}>
      <p>
        This computer forgets <strong>{name}</strong>: its address and this computer’s login to it are removed. The
        credentials stay in the team’s engine for everyone else, and you can connect again at any time.
      </p>
      {error && <ErrorNotice error={error} testId="team-disconnect-error" title={`Could not disconnect ${name}`} />}
      <div class="form-actions">
        <button type="button" class="btn btn-secondary" disabled={busy} data-testid="team-disconnect-cancel" onClick={onClose}>
          Keep it
        </button>
        <button type="button" class="btn btn-danger" disabled={busy} data-testid="team-disconnect-confirm" onClick={() => void disconnect()}>
          {busy ? 'Disconnecting…' : 'Disconnect'}
        </button>
      </div>
    </Modal>
  );
}
