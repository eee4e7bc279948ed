import type { AppInfo } from '../bindings/AppInfo';
import type { IpcError } from '../bindings/IpcError';
import type { ThemeChoice } from '../prefs';
import { AuditLogButton } from './audit/AuditLogButton';
import { VaultSwitcher } from './VaultSwitcher';

interface Props {
  info: AppInfo | null;
  theme: ThemeChoice;
  onTheme: (theme: ThemeChoice) => void;
  onOpenSettings: () => void;
  /** The vault switcher's callbacks (see `VaultSwitcher`). */
  onVaultSwitched: (info: AppInfo) => void;
  onVaultError: (title: string, error: IpcError) => void;
  onVaults: (anyTeam: boolean) => void;
  /** Shown when the vault has a passphrase and is unlocked: locks it now. */
  onLock?: () => void;
}

/** The brand (marked "Demo" in the demo vault), the vault switcher, reminders and theme. */
export function TopBar({ info, theme, onTheme, onOpenSettings, onVaultSwitched, onVaultError, onVaults, onLock }: Props) {
  const demo = info?.demo ?? false;
  return (
    <header class="topbar">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="20" height="20" focusable="false">
            <circle cx="8" cy="12" r="4.5" fill="none" stroke="currentColor" stroke-width="2" />
            <path d="M12.5 12H21M18 12v3.5M21 12v2.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
          </svg>
        </span>
        <div>
          <h1 class="brand-name">
            Tillkey
            {demo && (
              <span class="demo-badge" data-testid="demo-badge">
                Demo
              </span>
            )}
          </h1>
          <p class="brand-tagline">POS and payment API credentials</p>
        </div>
      </div>
      <div class="topbar-tools">
        <VaultSwitcher info={info} onSwitched={onVaultSwitched} onError={onVaultError} onVaults={onVaults} />
        {onLock && (
          <button type="button" class="btn btn-ghost btn-small" data-testid="lock-now" title="Lock Tillkey now (for the window and for scripts)" onClick={onLock}>
            Lock
          </button>
        )}
        <AuditLogButton />
        <button type="button" class="btn btn-ghost btn-small" data-testid="open-settings" onClick={onOpenSettings}>
          Settings…
        </button>
        <label class="inline-label" for="theme-select">
          Theme
        </label>
        <select
          id="theme-select"
          class="input select select-compact"
          value={theme}
          data-testid="theme-select"
          onChange={(e) => onTheme(e.currentTarget.value as ThemeChoice)}
        >
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </div>
    </header>
  );
}
