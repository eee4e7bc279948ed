import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { listCredentials, listProviders, removeCredential, toApiError } from './api';
import type { CredentialSummary } from './bindings/CredentialSummary';
import type { IpcError } from './bindings/IpcError';
import type { ProviderSchema } from './bindings/ProviderSchema';
import { AddCredentialForm } from './components/AddCredentialForm';
import { CredentialTable } from './components/CredentialTable';
import { ErrorNotice } from './components/ErrorNotice';
import { rotationDueSortKey } from './format';
import {
  DEFAULT_PREFERENCES,
  applyTheme,
  loadPreferences,
  savePreference,
  type Preferences,
  type SortOrder,
  type ThemeChoice,
} from './prefs';

type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: IpcError };

function sortCredentials(list: CredentialSummary[], order: SortOrder): CredentialSummary[] {
  const sorted = [...list];
  switch (order) {
    case 'name':
      sorted.sort((a, b) => a.name.localeCompare(b.name));
      break;
    case 'newest':
      sorted.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name));
      break;
    case 'rotation':
      sorted.sort(
        (a, b) => rotationDueSortKey(a) - rotationDueSortKey(b) || a.name.localeCompare(b.name),
      );
      break;
  }
  return sorted;
}

export function App() {
  const [prefs, setPrefs] = useState<Preferences>(DEFAULT_PREFERENCES);
  const [credentials, setCredentials] = useState<Loaded<CredentialSummary[]>>({ state: 'loading' });
  const [providers, setProviders] = useState<Loaded<ProviderSchema[]>>({ state: 'loading' });
  const [formOpen, setFormOpen] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [highlight, setHighlight] = useState<string | null>(null);
  const [actionError, setActionError] = useState<IpcError | null>(null);
  const addButtonRef = useRef<HTMLButtonElement>(null);

  const refresh = useCallback(async () => {
    try {
      setCredentials({ state: 'ready', value: await listCredentials() });
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
    void loadPreferences().then((p) => {
      setPrefs(p);
      applyTheme(p.theme);
    });
    void refresh();
    void loadProviders();
  }, [refresh, loadProviders]);

  // The highlight of a just-added row fades after a few seconds.
  useEffect(() => {
    if (!highlight) return;
    const timer = window.setTimeout(() => setHighlight(null), 4000);
    return () => window.clearTimeout(timer);
  }, [highlight]);

  function updatePref<K extends keyof Preferences>(key: K, value: Preferences[K]) {
    setPrefs((p) => ({ ...p, [key]: value }));
    if (key === 'theme') applyTheme(value as ThemeChoice);
    void savePreference(key, value);
  }

  function openForm() {
    setActionError(null);
    setFormOpen(true);
  }

  function closeForm() {
    setFormOpen(false);
    // Wait for the button to be rendered enabled again before focusing it.
    requestAnimationFrame(() => addButtonRef.current?.focus());
  }

  async function onAdded(added: CredentialSummary) {
    setFormOpen(false);
    setHighlight(added.name);
    setAnnouncement(`Added “${added.name}”. Its secrets are in the OS keyring.`);
    await refresh();
    requestAnimationFrame(() => addButtonRef.current?.focus());
  }

  async function onRemove(name: string) {
    setActionError(null);
    try {
      await removeCredential(name);
      setAnnouncement(`Removed “${name}” and its keyring entries.`);
      if (highlight === name) setHighlight(null);
    } catch (err) {
      setActionError(toApiError(err).info);
    }
    await refresh();
    requestAnimationFrame(() => addButtonRef.current?.focus());
  }

  const sorted = useMemo(
    () => (credentials.state === 'ready' ? sortCredentials(credentials.value, prefs.sort) : []),
    [credentials, prefs.sort],
  );
  const count = credentials.state === 'ready' ? credentials.value.length : null;
  const list = credentials.state === 'ready' ? credentials.value : [];
  const overdue = list.filter((c) => c.rotation.status === 'overdue').length;
  const dueSoon = list.filter((c) => c.rotation.status === 'dueSoon').length;
  const rotationSummary =
    overdue + dueSoon > 0
      ? `Rotation: ${[overdue > 0 ? `${overdue} overdue` : '', dueSoon > 0 ? `${dueSoon} due soon` : '']
          .filter(Boolean)
          .join(', ')}.`
      : 'Rotation reminders follow each credential’s rotation period.';

  return (
    <div class="app">
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            <svg viewBox="0 0 24 24" width="20" height="20" focusable="false">
              <circle cx="8" cy="12" r="4.5" fill="none" stroke="currentColor" stroke-width="2" />
              <path d="M12.5 12H21M18 12v3.5M21 12v2.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            </svg>
          </span>
          <div>
            <h1 class="brand-name">Tillkey</h1>
            <p class="brand-tagline">POS and payment API credentials</p>
          </div>
        </div>
        <div class="topbar-tools">
          <label class="inline-label" for="theme-select">
            Theme
          </label>
          <select
            id="theme-select"
            class="input select select-compact"
            value={prefs.theme}
            data-testid="theme-select"
            onChange={(e) => updatePref('theme', e.currentTarget.value as ThemeChoice)}
          >
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </div>
      </header>

      <main class="content">
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="announcement">
          {announcement}
        </p>

        {formOpen && providers.state === 'ready' && (
          <AddCredentialForm providers={providers.value} onAdded={onAdded} onCancel={closeForm} />
        )}

        <section class="card" aria-labelledby="list-title">
          <header class="card-header">
            <div>
              <h2 id="list-title" class="card-title">
                Credentials
                {count !== null && (
                  <span class="count" data-testid="credential-count">
                    {count}
                  </span>
                )}
              </h2>
              <p class="card-subtitle" data-testid="rotation-summary">
                {rotationSummary}
              </p>
            </div>
            <div class="card-tools">
              <label class="inline-label" for="sort-select">
                Sort by
              </label>
              <select
                id="sort-select"
                class="input select select-compact"
                value={prefs.sort}
                data-testid="sort-select"
                onChange={(e) => updatePref('sort', e.currentTarget.value as SortOrder)}
              >
                <option value="name">Name</option>
                <option value="newest">Newest first</option>
                <option value="rotation">Rotation due</option>
              </select>
              <button
                ref={addButtonRef}
                type="button"
                class="btn btn-primary"
                disabled={formOpen || providers.state !== 'ready'}
                aria-expanded={formOpen}
                data-testid="open-add-form"
                onClick={openForm}
              >
                <span aria-hidden="true" class="btn-icon">
                  +
                </span>
                Add credential
              </button>
            </div>
          </header>

          {providers.state === 'error' && (
            <ErrorNotice
              error={providers.error}
              testId="providers-error"
              title="Could not load the provider list"
              onRetry={() => void loadProviders()}
            />
          )}

          {actionError && (
            <ErrorNotice
              error={actionError}
              testId="action-error"
              title="Could not remove the credential"
              onDismiss={() => setActionError(null)}
            />
          )}

          {credentials.state === 'loading' && (
            <p class="empty" data-testid="list-loading">
              Opening the vault…
            </p>
          )}
          {credentials.state === 'error' && (
            <ErrorNotice
              error={credentials.error}
              testId="list-error"
              title="Could not open the vault"
              onRetry={() => void refresh()}
            />
          )}
          {credentials.state === 'ready' && credentials.value.length === 0 && (
            <div class="empty" data-testid="empty-state">
              <p class="empty-title">No credentials yet</p>
              <p>Add the API credentials of your POS or payment provider to keep them in the OS keyring.</p>
            </div>
          )}
          {credentials.state === 'ready' && credentials.value.length > 0 && (
            <CredentialTable credentials={sorted} highlight={highlight} onRemove={onRemove} />
          )}
        </section>
      </main>
    </div>
  );
}
