// The vault passphrase as the window sees it: whether the vault is locked, kept current when
// the app signals a change (the DOM event `tillkey-lock`: the window's Lock, `tillkey lock`,
// auto-lock, the screen locking), and the unlock dialog every locked action opens.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { lockStatus, setUnlockPrompt } from '../api';
import type { LockStatus } from '../bindings/LockStatus';

/** Why the unlock dialog is open: which action asked (a command name), or the banner. */
export interface UnlockRequest {
  reason: string;
}

/** Words for the action that asked for the passphrase. */
const ACTIONS: Record<string, string> = {
  copy_token: 'Copying a token',
  reveal_token: 'Revealing a token',
  test_credential: 'Testing a credential',
  test_all: 'Testing every credential',
  add_credential: 'Adding a credential',
  edit_credential: 'Editing a credential',
  remove_credential: 'Removing a credential',
  rotate_credential: 'Rotating a credential',
  mark_rotated: 'Marking a credential rotated',
  revoke_token: 'Revoking a token',
  connect_team_vault: 'Connecting a team vault',
};

export function useLock() {
  const [status, setStatus] = useState<LockStatus | null>(null);
  const [request, setRequest] = useState<UnlockRequest | null>(null);
  const settle = useRef<((unlocked: boolean) => void) | null>(null);

  const refresh = useCallback(async () => {
    try {
      setStatus(await lockStatus());
    } catch {
      // No data dir yet, or an unreadable passphrase file: the actions say why.
      setStatus(null);
    }
  }, []);

  useEffect(() => {
    void refresh();
    const changed = () => void refresh();
    window.addEventListener('tillkey-lock', changed);
    window.addEventListener('focus', changed);
    return () => {
      window.removeEventListener('tillkey-lock', changed);
      window.removeEventListener('focus', changed);
    };
  }, [refresh]);

  /** Opens the unlock dialog; resolves true once unlocked, false when cancelled. */
  const ask = useCallback((reason: string) => {
    settle.current?.(false);
    setRequest({ reason });
    return new Promise<boolean>((resolve) => {
      settle.current = resolve;
    });
  }, []);

  useEffect(() => {
    setUnlockPrompt((command) => ask(`${ACTIONS[command] ?? 'This action'} needs the vault passphrase.`));
    return () => setUnlockPrompt(null);
  }, [ask]);

  /** The dialog closed: unlocked (with the new status) or cancelled. */
  const done = useCallback((unlocked: LockStatus | null) => {
    if (unlocked) setStatus(unlocked);
    setRequest(null);
    settle.current?.(unlocked !== null);
    settle.current = null;
  }, []);

  return { status, setStatus, refresh, request, ask, done };
}
