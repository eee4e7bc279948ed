import type { LockStatus } from '../../bindings/LockStatus';

interface Props {
  status: LockStatus;
  onUnlock: () => void;
}

/** The lock screen's notice: what stays visible while locked, and the way to unlock. */
export function LockBanner({ status, onUnlock }: Props) {
  const tokens =
    status.tokensWhileLocked === 'locked'
      ? 'Scripts get no token until it is unlocked.'
      : 'Scripts keep using access tokens already fetched until they expire.';
  return (
    <div class="lock-banner" role="note" data-testid="lock-banner">
      <p>
        <strong>Tillkey is locked.</strong> Names, providers, expiry and rotation status stay visible; copying,
        revealing, testing and every change ask for the vault passphrase. {tokens}
      </p>
      <button type="button" class="btn btn-primary btn-small" data-testid="unlock-open" onClick={onUnlock}>
        Unlock…
      </button>
    </div>
  );
}
