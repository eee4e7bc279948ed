// The active vault as the window shows it: which vault (app info and its clock), its
// credentials and the provider schemas, re-read every minute and after each change.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { appInfo, listCredentials, listProviders, toApiError } from '../api';
import type { AppInfo } from '../bindings/AppInfo';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { IpcError } from '../bindings/IpcError';
import type { ProviderSchema } from '../bindings/ProviderSchema';

export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: IpcError };

/** How often the list is re-read (rotation status changes with the date). */
const REFRESH_MS = 60_000;

export function useVault() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  // The app's clock minus this webview's (test builds may shift the app's clock).
  const [offset, setOffset] = useState(0);
  const [credentials, setCredentials] = useState<Loaded<CredentialSummary[]>>({ state: 'loading' });
  const [providers, setProviders] = useState<Loaded<ProviderSchema[]>>({ state: 'loading' });

  const refresh = useCallback(async () => {
    try {
      const [list, i] = await Promise.all([listCredentials(), appInfo()]);
      setCredentials({ state: 'ready', value: list });
      setInfo(i);
      setOffset(new Date(i.now).getTime() - Date.now());
    } catch (err) {
      setCredentials({ state: 'error', error: toApiError(err).info });
    }
  }, []);

  const loadProviders = useCallback(async () => {
    try {
      setProviders({ state: 'ready', value: await listProviders() });
    } catch (err) {
      setProviders({ state: 'error', error: toApiError(err).info });
    }
  }, []);

  useEffect(() => {
    void refresh();
    void loadProviders();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh, loadProviders]);

  /**
   * Another vault is active now (`info` from the switch): show it, and its list once read;
   * `loading` shows "Opening the vault…" until then instead of the previous vault's list.
   */
  const show = useCallback(
    (i: AppInfo, loading: boolean) => {
      setInfo(i);
      if (loading) setCredentials({ state: 'loading' });
      return refresh();
    },
    [refresh],
  );

  return { info, offset, credentials, providers, refresh, loadProviders, show };
}

export type Vault = ReturnType<typeof useVault>;
