// "Now" on the app's clock, ticking.

import { useEffect, useState } from 'preact/hooks';

/**
 * "Now" in ms on the app's clock (which test builds may shift), ticking every
 * `intervalMs`. `offsetMs` is app clock minus this webview's clock.
 */
export function useNow(offsetMs: number, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now() + offsetMs);
  useEffect(() => {
    setNow(Date.now() + offsetMs);
    const timer = window.setInterval(() => setNow(Date.now() + offsetMs), intervalMs);
    return () => window.clearInterval(timer);
  }, [offsetMs, intervalMs]);
  return now;
}
