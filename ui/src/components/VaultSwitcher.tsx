import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { AppInfo } from '../bindings/AppInfo';
import type { IpcError } from '../bindings/IpcError';
import type { VaultStatus } from '../bindings/VaultStatus';
import { appInfo, listVaults, switchVault, toApiError, vaultStatus } from '../api';
import { ConnectDialog } from './team/ConnectDialog';
import { DisconnectDialog } from './team/DisconnectDialog';

/** How often the switcher asks the team vaults' engines how they are (one round-trip each). */
const STATUS_REFRESH_MS = 60_000;

/** One line for a vault in the switcher: name, kind, state, access and size. */
export function vaultLabel(v: VaultStatus): string {
  if (!v.team) {
    return `This computer (OS keyring)${v.credentials === null ? '' : ` · ${v.credentials}`}`;
  }
  const parts = [`${v.name} (team)`];
  if (v.state !== 'connected') {
    parts.push(v.state);
  } else {
    if (v.writable === false) parts.push('read-only');
    if (v.credentials !== null) parts.push(String(v.credentials));
  }
  return parts.join(' · ');
}

interface Props {
  /** The active vault, as `app_info` reports it. */
  info: AppInfo | null;
  /** Called after a switch, with the new vault's info. */
  onSwitched: (info: AppInfo) => void;
  /** Called when listing or switching fails. */
  onError: (title: string, info: IpcError) => void;
  /** Told whether this machine has any team vault (the list then says which vault holds a row). */
  onVaults: (anyTeam: boolean) => void;
}

/**
 * The vault picker in the top bar: this computer's keyring vault and every connected team
 * vault, each with its connection status, and the way to connect another ("Connect team
 * vault…", the only part shown while there is no team vault). Hidden in the demo vault.
 */
export function VaultSwitcher({ info, onSwitched, onError, onVaults }: Props) {
  const [vaults, setVaults] = useState<VaultStatus[]>([]);
  const [busy, setBusy] = useState(false);
  const [connecting, setConnecting] = useState(false);

  const load = useCallback(async () => {
    try {
      const all = await listVaults();
      setVaults(all);
      onVaults(all.some((v) => v.team));
    } catch (err) {
      onError('Could not list your vaults', toApiError(err).info);
    }
  }, [onError, onVaults]);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), STATUS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  // Another vault is shown (picked here, just connected, or the shown one disconnected):
  // list them again, with the states as they are now.
  const shown = useRef<string | null>(null);
  useEffect(() => {
    const now = info?.vault ?? null;
    if (now === null) return;
    if (shown.current !== null && shown.current !== now) void load();
    shown.current = now;
  }, [info?.vault, load]);

  if (!info || info.demo) return null;

  const connectDialog = connecting && (
    <ConnectDialog
      onClose={() => setConnecting(false)}
      onConnected={(status) => {
        setConnecting(false);
        void load().then(() => pick(status.name));
      }}
    />
  );

  if (!vaults.some((v) => v.team)) {
    return (
      <div class="vault-switcher">
        <button
          type="button"
          class="btn btn-ghost btn-small"
          data-testid="connect-team-vault"
          onClick={() => setConnecting(true)}
        >
          Connect team vault…
        </button>
        {connectDialog}
      </div>
    );
  }

  async function pick(name: string) {
    setBusy(true);
    try {
      onSwitched(await switchVault(name));
    } catch (err) {
      onError(`Could not open vault ${name}`, toApiError(err).info);
    } finally {
      setBusy(false);
    }
  }

  const active = vaults.find((v) => v.name === info.vault);
  return (
    <div class="vault-switcher">
      <label class="inline-label" for="vault-select">
        Vault
      </label>
      <select
        id="vault-select"
        class="input select select-compact"
        value={info.vault}
        disabled={busy}
        data-testid="vault-select"
        aria-describedby="vault-state"
        onChange={(e) => void pick(e.currentTarget.value)}
      >
        {vaults.map((v) => (
          <option key={v.name} value={v.name} data-state={v.state}>
            {vaultLabel(v)}
          </option>
        ))}
      </select>
      <span
        id="vault-state"
        class={`vault-state vault-state-${active?.state ?? 'connected'}`}
        data-testid="vault-state"
        data-state={active?.state ?? ''}
      >
        {active?.team ? active.state : 'local'}
      </span>
      <button
        type="button"
        class="btn btn-ghost btn-small btn-icon"
        aria-label="Connect team vault…"
        title="Connect team vault…"
        data-testid="connect-team-vault"
        onClick={() => setConnecting(true)}
      >
        <span aria-hidden="true">+</span>
      </button>
      {connectDialog}
    </div>
  );
}

interface NoticeProps {
  /** The active vault, as `app_info` reports it. */
  info: AppInfo | null;
  /** Tells the window whether writes are allowed here. */
  onAccess: (readOnly: boolean) => void;
  /** This team vault was disconnected; `info` is the vault shown now (this computer's). */
  onDisconnected: (name: string, info: AppInfo) => void;
  /** Called when re-reading the vault shown after a disconnect fails. */
  onError: (title: string, info: IpcError) => void;
}

/**
 * Under the top bar in a team vault: which vault this is, a clear notice when this
 * machine's policy allows reading only or when the engine cannot be reached, and
 * "Disconnect…" (with a confirmation).
 */
export function VaultNotice({ info, onAccess, onDisconnected, onError }: NoticeProps) {
  const [status, setStatus] = useState<VaultStatus | null>(null);
  const [disconnecting, setDisconnecting] = useState(false);
  const team = info?.team ?? false;

  useEffect(() => {
    if (!team) {
      setStatus(null);
      onAccess(false);
      return;
    }
    // On opening the vault, then as often as the switcher asks (each check is a few
    // round-trips to the engine, so not after every list reload).
    let live = true;
    const check = () =>
      void vaultStatus()
        .then((s) => {
          if (!live) return;
          setStatus(s);
          onAccess(s.writable === false);
        })
        .catch(() => {
          // The list shows the error with its hint; nothing more to say here.
        });
    check();
    const timer = window.setInterval(check, STATUS_REFRESH_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [team, info?.vault, onAccess]);

  if (!team || !info) return null;
  const readOnly = status?.writable === false;
  const name = info.vault;

  async function disconnected() {
    setDisconnecting(false);
    try {
      onDisconnected(name, await appInfo());
    } catch (err) {
      onError('Could not open the vault on this computer', toApiError(err).info);
    }
  }

  return (
    <>
      <div class="team-banner" role="note" data-testid="team-banner" data-vault={info.vault}>
        <div class="team-banner-top">
          <p>
            <strong>Team vault {info.vault}</strong>
            {status && <span class="team-address"> at {status.address}</span>}. Credentials here are shared with
            everyone connected to it; their secrets stay in the team's engine, never on this computer.
          </p>
          <button
            type="button"
            class="btn btn-ghost btn-small"
            aria-label={`Disconnect team vault ${name} from this computer…`}
            data-testid="team-disconnect"
            onClick={() => setDisconnecting(true)}
          >
            Disconnect…
          </button>
        </div>
        {readOnly && (
          <p class="team-readonly" data-testid="read-only-notice">
            <strong>Read-only.</strong> Your access policy lets you list, test and copy tokens, not add, change,
            rotate or remove credentials. Ask a vault admin for those.
          </p>
        )}
        {status && status.state !== 'connected' && (
          <p class="team-problem" data-testid="team-problem" data-code={status.errorCode ?? ''}>
            <strong>
              {status.state === 'sealed'
                ? 'The engine is sealed.'
                : status.state === 'locked'
                  ? 'Locked with the vault passphrase.'
                  : 'Cannot reach this vault.'}
            </strong>{' '}
            {status.detail}
          </p>
        )}
      </div>
      {disconnecting && (
        <DisconnectDialog name={name} onClose={() => setDisconnecting(false)} onDisconnected={() => void disconnected()} />
      )}
    </>
  );
}
