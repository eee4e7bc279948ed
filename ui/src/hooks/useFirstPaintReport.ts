// The benchmark's first-paint report (only `bench` builds of the app have the command).

import { useEffect, useRef } from 'preact/hooks';
import { reportFirstPaint } from '../api';
import type { AppInfo } from '../bindings/AppInfo';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { Loaded } from './useVault';

/**
 * Once, when the vault's list first shows: reports the painted dashboard (two frames on, so
 * the frame with the rows has been painted), if the app says the benchmark waits for it.
 */
export function useFirstPaintReport(credentials: Loaded<CredentialSummary[]>, info: AppInfo | null) {
  const reported = useRef(false);
  useEffect(() => {
    if (reported.current || credentials.state === 'loading' || !info) return;
    reported.current = true;
    if (!info.firstPaintReport) return;
    const total = credentials.state === 'ready' ? credentials.value.length : 0;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const rows = document.querySelectorAll('[data-testid="credential-row"]').length;
        void reportFirstPaint(rows, total);
      }),
    );
  }, [credentials, info]);
}
