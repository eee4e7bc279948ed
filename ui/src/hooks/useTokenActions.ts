// A row's token actions: copy (done in Rust, with the clipboard countdown mirrored here),
// reveal (shown on an explicit click, hidden again after a minute) and revoke (the cached
// token revoked at the provider where it can be, and forgotten).

import { useEffect, useState } from 'preact/hooks';
import { copyToken, revealToken, revokeToken, toApiError } from '../api';
import type { IpcError } from '../bindings/IpcError';
import type { RevokeResult } from '../bindings/RevokeResult';

type Copied = { until: number } | { cleared: true } | null;

/** `onTokenUsed`: a token was fetched or reused, so the row's token status changed. */
export function useTokenActions(name: string, onTokenUsed: () => void) {
  const [copying, setCopying] = useState(false);
  const [copied, setCopied] = useState<Copied>(null);
  const [revealed, setRevealed] = useState<string | null>(null);
  const [revealing, setRevealing] = useState(false);
  const [revoking, setRevoking] = useState(false);
  const [revoked, setRevoked] = useState<RevokeResult | null>(null);
  const [error, setError] = useState<{ title: string; info: IpcError } | null>(null);
  const [tick, setTick] = useState(Date.now());

  // The clipboard countdown runs on the webview's own clock (it mirrors a Rust timer).
  useEffect(() => {
    if (!copied || !('until' in copied)) return;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setTick(t);
      if (t >= copied.until) setCopied({ cleared: true });
    }, 250);
    return () => window.clearInterval(timer);
  }, [copied]);

  // A revealed token hides itself after a minute.
  useEffect(() => {
    if (revealed === null) return;
    const timer = window.setTimeout(() => setRevealed(null), 60_000);
    return () => window.clearTimeout(timer);
  }, [revealed]);

  async function copy() {
    setError(null);
    setRevoked(null);
    setCopying(true);
    try {
      const r = await copyToken(name);
      setCopied({ until: Date.now() + r.clearsInSecs * 1000 });
      setTick(Date.now());
      onTokenUsed();
    } catch (err) {
      setError({ title: 'Could not copy a token', info: toApiError(err).info });
    } finally {
      setCopying(false);
    }
  }

  async function reveal() {
    if (revealed !== null) {
      setRevealed(null);
      return;
    }
    setError(null);
    setRevealing(true);
    try {
      setRevealed((await revealToken(name)).token);
      onTokenUsed();
    } catch (err) {
      setError({ title: 'Could not get a token', info: toApiError(err).info });
    } finally {
      setRevealing(false);
    }
  }

  async function revoke() {
    setError(null);
    setRevoked(null);
    setRevoking(true);
    try {
      setRevoked(await revokeToken(name));
      setRevealed(null);
      onTokenUsed();
    } catch (err) {
      setError({ title: 'Could not revoke the token', info: toApiError(err).info });
    } finally {
      setRevoking(false);
    }
  }

  /** Seconds until the clipboard is cleared, while the countdown runs. */
  const clearsIn = copied && 'until' in copied ? Math.max(0, Math.ceil((copied.until - tick) / 1000)) : null;

  return {
    copying,
    copied: copied !== null,
    clearsIn,
    revealed,
    revealing,
    revoking,
    revoked,
    dismissRevoked: () => setRevoked(null),
    error,
    dismissError: () => setError(null),
    copy,
    reveal,
    revoke,
  };
}
