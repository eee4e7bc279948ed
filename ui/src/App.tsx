import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  appInfo,
  leaveDemo,
  listCredentials,
  listProviders,
  markRotated,
  openDemo,
  removeCredential,
  reportFirstPaint,
  testAll,
  testCredential,
  switchVault as openVault,
  toApiError,
} from './api';
import type { AppInfo } from './bindings/AppInfo';
import type { CredentialSummary } from './bindings/CredentialSummary';
import type { IpcError } from './bindings/IpcError';
import type { ProviderSchema } from './bindings/ProviderSchema';
import type { TestReport } from './bindings/TestReport';
import { CredentialForm, type FormMode } from './components/CredentialForm';
import { CredentialList } from './components/CredentialList';
import { ErrorNotice } from './components/ErrorNotice';
import { RotationWizard } from './components/RotationWizard';
import { SettingsDialog } from './components/SettingsDialog';
import { VaultNotice, VaultSwitcher } from './components/VaultSwitcher';
import { plural, rotationDueSortKey, rotationText, tokenExpirySortKey } from './format';
import { useNow } from './hooks';
import {
  DEFAULT_PREFERENCES,
  applyTheme,
  loadLastVault,
  loadPreferences,
  saveLastVault,
  savePreference,
  type Preferences,
  type SortOrder,
  type ThemeChoice,
} from './prefs';

type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'error'; error: IpcError };
type StatusFilter = 'all' | 'attention' | 'overdue' | 'failed' | 'untested';

/** How often the list is re-read (rotation status changes with the date). */
const REFRESH_MS = 60_000;

function sortCredentials(list: CredentialSummary[], order: SortOrder): CredentialSummary[] {
  const sorted = [...list];
  const byName = (a: CredentialSummary, b: CredentialSummary) => a.name.localeCompare(b.name);
  switch (order) {
    case 'name':
      sorted.sort(byName);
      break;
    case 'newest':
      sorted.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || byName(a, b));
      break;
    case 'rotation':
      sorted.sort((a, b) => rotationDueSortKey(a) - rotationDueSortKey(b) || byName(a, b));
      break;
    case 'token':
      sorted.sort((a, b) => tokenExpirySortKey(a) - tokenExpirySortKey(b) || byName(a, b));
      break;
    case 'provider':
      sorted.sort((a, b) => a.providerLabel.localeCompare(b.providerLabel) || byName(a, b));
      break;
  }
  return sorted;
}

function matches(c: CredentialSummary, query: string, provider: string, status: StatusFilter): boolean {
  if (provider !== '' && c.provider !== provider) return false;
  switch (status) {
    case 'attention':
      if (c.rotation.status === 'ok') return false;
      break;
    case 'overdue':
      if (c.rotation.status !== 'overdue') return false;
      break;
    case 'failed':
      if (!c.lastTest || c.lastTest.ok) return false;
      break;
    case 'untested':
      if (c.lastTest) return false;
      break;
  }
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  return [c.name, c.provider, c.providerLabel, c.environment].some((s) => s.toLowerCase().includes(q));
}

export function App() {
  const [prefs, setPrefs] = useState<Preferences>(DEFAULT_PREFERENCES);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [offset, setOffset] = useState(0);
  const [credentials, setCredentials] = useState<Loaded<CredentialSummary[]>>({ state: 'loading' });
  const [providers, setProviders] = useState<Loaded<ProviderSchema[]>>({ state: 'loading' });
  const [form, setForm] = useState<FormMode | null>(null);
  const [rotating, setRotating] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [highlight, setHighlight] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ title: string; info: IpcError } | null>(null);
  const [reports, setReports] = useState<Record<string, TestReport>>({});
  // Results of this session's tests. The vault records them too, except where it may not
  // (a read-only team vault): then these still show as each row's last test.
  const [sessionTests, setSessionTests] = useState<Record<string, TestReport>>({});
  const [testing, setTesting] = useState<ReadonlySet<string>>(new Set());
  const [testAllState, setTestAllState] = useState<null | 'running' | { passed: number; failed: number }>(null);
  const [switching, setSwitching] = useState(false);
  const [readOnly, setReadOnly] = useState(false);
  const [hasTeamVaults, setHasTeamVaults] = useState(false);
  const [query, setQuery] = useState('');
  const [providerFilter, setProviderFilter] = useState('');
  const [statusFilter, setStatusFilter] = useState<StatusFilter>('all');
  const addButtonRef = useRef<HTMLButtonElement>(null);
  const now = useNow(offset);

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
    void loadPreferences().then((p) => {
      setPrefs(p);
      applyTheme(p.theme);
    });
    void refresh();
    void loadProviders();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh, loadProviders]);

  // Once, when the vault's list first shows: report the painted dashboard (two frames on,
  // so the frame with the rows has been painted), if the benchmark waits for it.
  const paintReported = useRef(false);
  useEffect(() => {
    if (paintReported.current || credentials.state === 'loading' || !info) return;
    paintReported.current = true;
    if (!info.firstPaintReport) return;
    const total = credentials.state === 'ready' ? credentials.value.length : 0;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const rows = document.querySelectorAll('[data-testid="credential-row"]').length;
        void reportFirstPaint(rows, total);
      }),
    );
  }, [credentials, info]);

  // The highlight of a just-added row fades after a few seconds.
  useEffect(() => {
    if (!highlight) return;
    const timer = window.setTimeout(() => setHighlight(null), 4000);
    return () => window.clearTimeout(timer);
  }, [highlight]);

  function updatePref<K extends 'theme' | 'sort'>(key: K, value: Preferences[K]) {
    setPrefs((p) => ({ ...p, [key]: value }));
    if (key === 'theme') applyTheme(value as ThemeChoice);
    void savePreference(key, value);
  }

  function focusAdd() {
    requestAnimationFrame(() => addButtonRef.current?.focus());
  }

  function closeForm() {
    setForm(null);
    focusAdd();
  }

  const runTest = useCallback(
    async (name: string) => {
      setTesting((t) => new Set(t).add(name));
      setActionError(null);
      try {
        const report = await testCredential(name);
        setReports((r) => ({ ...r, [name]: report }));
        setSessionTests((r) => ({ ...r, [name]: report }));
        setAnnouncement(`Test of “${name}” ${report.ok ? 'passed' : 'failed'}: ${report.summary}`);
      } catch (err) {
        setActionError({ title: `Could not test “${name}”`, info: toApiError(err).info });
      } finally {
        setTesting((t) => {
          const next = new Set(t);
          next.delete(name);
          return next;
        });
        await refresh();
      }
    },
    [refresh],
  );

  async function onSaved(saved: CredentialSummary, test: boolean) {
    const wasEdit = form?.kind === 'edit';
    if (wasEdit && form?.kind === 'edit' && form.credential.name !== saved.name) {
      setReports(({ [form.credential.name]: _old, ...rest }) => rest);
    }
    setForm(null);
    setHighlight(saved.name);
    setAnnouncement(wasEdit ? `Saved “${saved.name}”.` : `Added “${saved.name}”. Its secrets are in the OS keyring.`);
    await refresh();
    if (test) await runTest(saved.name);
    requestAnimationFrame(() => {
      document.querySelector<HTMLElement>(`[data-testid="credential-row"][data-name="${CSS.escape(saved.name)}"] [data-testid="test-button"]`)?.focus();
    });
  }

  async function onRemove(name: string) {
    setActionError(null);
    try {
      await removeCredential(name);
      setAnnouncement(`Removed “${name}” and its keyring entries.`);
      if (highlight === name) setHighlight(null);
      setReports(({ [name]: _gone, ...rest }) => rest);
    } catch (err) {
      setActionError({ title: `Could not remove “${name}”`, info: toApiError(err).info });
    }
    await refresh();
    focusAdd();
  }

  async function onMarkRotated(name: string) {
    setActionError(null);
    try {
      const updated = await markRotated(name);
      setAnnouncement(`Marked “${name}” as rotated today. ${rotationText(updated.rotation).detail}.`);
    } catch (err) {
      setActionError({ title: `Could not mark “${name}” as rotated`, info: toApiError(err).info });
    }
    await refresh();
  }

  async function onTestAll() {
    setTestAllState('running');
    setActionError(null);
    const names = credentials.state === 'ready' ? credentials.value.map((c) => c.name) : [];
    setTesting(new Set(names));
    try {
      const all = await testAll();
      setSessionTests((r) => ({ ...r, ...Object.fromEntries(all.map((t) => [t.credential, t])) }));
      const passed = all.filter((r) => r.ok).length;
      setTestAllState({ passed, failed: all.length - passed });
      // Open the failed ones; the passed ones show a tick in their row.
      setReports((r) => {
        const next = { ...r };
        for (const report of all) {
          if (report.ok) delete next[report.credential];
          else next[report.credential] = report;
        }
        return next;
      });
      setAnnouncement(`Test all: ${passed} passed, ${all.length - passed} failed.`);
    } catch (err) {
      setTestAllState(null);
      setActionError({ title: 'Could not run the tests', info: toApiError(err).info });
    } finally {
      setTesting(new Set());
      await refresh();
    }
  }

  async function switchVault(toDemo: boolean) {
    setSwitching(true);
    setActionError(null);
    try {
      const i = toDemo ? await openDemo() : await leaveDemo();
      setInfo(i);
      setReports({});
      setSessionTests({});
      setTestAllState(null);
      setForm(null);
      setQuery('');
      setProviderFilter('');
      setStatusFilter('all');
      setAnnouncement(toDemo ? 'Opened the demo vault: simulated providers, nothing real.' : 'Back in your own vault.');
      await refresh();
    } catch (err) {
      setActionError({ title: toDemo ? 'Could not open the demo vault' : 'Could not leave the demo vault', info: toApiError(err).info });
    } finally {
      setSwitching(false);
    }
  }

  /** After the vault switcher opened another vault: start clean on its list. */
  const onVaultSwitched = useCallback(
    (i: AppInfo) => {
      setInfo(i);
      setReports({});
      setSessionTests({});
      setTestAllState(null);
      setForm(null);
      setRotating(null);
      setQuery('');
      setProviderFilter('');
      setStatusFilter('all');
      setCredentials({ state: 'loading' });
      setAnnouncement(i.team ? `Showing team vault ${i.vault}.` : 'Showing the vault on this computer.');
      void saveLastVault(i.vault);
      void refresh();
    },
    [refresh],
  );
  const onVaultError = useCallback((title: string, error: IpcError) => setActionError({ title, info: error }), []);

  // Reopen the vault the merchant last chose (a team vault), once, if it is still connected.
  useEffect(() => {
    void loadLastVault().then(async (name) => {
      if (!name || name === 'local') return;
      try {
        onVaultSwitched(await openVault(name));
      } catch {
        // Disconnected since: stay in the local vault; the switcher still lists the rest.
      }
    });
  }, [onVaultSwitched]);

  const list = useMemo(() => {
    const stored = credentials.state === 'ready' ? credentials.value : [];
    if (Object.keys(sessionTests).length === 0) return stored;
    return stored.map((c) => {
      const t = sessionTests[c.name];
      const newer = t && (!c.lastTest || Date.parse(t.testedAt) > Date.parse(c.lastTest.testedAt));
      return newer ? { ...c, lastTest: t } : c;
    });
  }, [credentials, sessionTests]);
  const visible = useMemo(
    () => sortCredentials(list.filter((c) => matches(c, query, providerFilter, statusFilter)), prefs.sort),
    [list, query, providerFilter, statusFilter, prefs.sort],
  );
  const overdue = list.filter((c) => c.rotation.status === 'overdue');
  const dueSoon = list.filter((c) => c.rotation.status === 'dueSoon');
  const kindsPresent = useMemo(() => {
    const seen = new Map<string, string>();
    for (const c of list) seen.set(c.provider, c.providerLabel);
    return [...seen.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  }, [list]);
  const rotatingCredential = rotating ? list.find((c) => c.name === rotating) : undefined;
  const providerList = providers.state === 'ready' ? providers.value : [];
  const filtered = query !== '' || providerFilter !== '' || statusFilter !== 'all';
  const demo = info?.demo ?? false;

  return (
    <div class={demo ? 'app app-demo' : 'app'}>
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
          <VaultSwitcher
            info={info}
            onSwitched={onVaultSwitched}
            onError={onVaultError}
            onVaults={setHasTeamVaults}
          />
          <button
            type="button"
            class="btn btn-ghost btn-small"
            data-testid="open-settings"
            onClick={() => setSettingsOpen(true)}
          >
            Reminders…
          </button>
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

      {demo && (
        <div class="demo-banner" role="note" data-testid="demo-banner">
          <p>
            <strong>Demo vault.</strong> These credentials talk to provider simulators running inside Tillkey on
            this computer. Nothing here is real, and your own vault is not touched.
          </p>
          <button
            type="button"
            class="btn btn-secondary btn-small"
            disabled={switching}
            data-testid="leave-demo"
            onClick={() => void switchVault(false)}
          >
            {switching ? 'Leaving…' : 'Leave demo'}
          </button>
        </div>
      )}

      <VaultNotice info={info} onAccess={setReadOnly} />

      <main class="content">
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="announcement">
          {announcement}
        </p>

        {(overdue.length > 0 || dueSoon.length > 0) && !form && (
          <section class="reminders" aria-labelledby="reminders-title" data-testid="reminder-summary">
            <h2 id="reminders-title" class="reminders-title">
              {overdue.length > 0 ? 'Rotation overdue' : 'Rotation due soon'}
            </h2>
            <ul class="reminder-list">
              {[...overdue, ...dueSoon].map((c) => (
                <li key={c.id} data-testid="reminder-item" data-name={c.name} data-status={c.rotation.status}>
                  <strong>{c.name}</strong> ({c.providerLabel}): {rotationText(c.rotation).label.toLowerCase()}
                  <button
                    type="button"
                    class="btn btn-secondary btn-small"
                    aria-label={`Rotate ${c.name}`}
                    onClick={() => setRotating(c.name)}
                  >
                    Rotate…
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}

        {form && providers.state === 'ready' && (
          <CredentialForm
            mode={form}
            providers={providers.value}
            takenNames={list.map((c) => c.name)}
            onSaved={(c, t) => void onSaved(c, t)}
            onCancel={closeForm}
          />
        )}

        {!form && (
          <section class="card" aria-labelledby="list-title">
            <header class="card-header">
              <div>
                <h2 id="list-title" class="card-title">
                  Credentials
                  {credentials.state === 'ready' && (
                    <span class="count" data-testid="credential-count">
                      {list.length}
                    </span>
                  )}
                </h2>
                <p class="card-subtitle" data-testid="rotation-summary">
                  {overdue.length + dueSoon.length > 0
                    ? `Rotation: ${[overdue.length > 0 ? `${overdue.length} overdue` : '', dueSoon.length > 0 ? `${dueSoon.length} due soon` : '']
                        .filter(Boolean)
                        .join(', ')}.`
                    : 'Rotation reminders follow each credential’s rotation period.'}
                </p>
              </div>
              <div class="card-tools">
                <button
                  type="button"
                  class="btn btn-secondary"
                  disabled={list.length === 0 || testAllState === 'running'}
                  data-testid="test-all"
                  onClick={() => void onTestAll()}
                >
                  {testAllState === 'running' ? 'Testing all…' : 'Test all'}
                </button>
                <button
                  ref={addButtonRef}
                  type="button"
                  class="btn btn-primary"
                  disabled={providers.state !== 'ready' || readOnly}
                  title={readOnly ? 'This team vault is read-only for you' : undefined}
                  data-testid="open-add-form"
                  onClick={() => {
                    setActionError(null);
                    setForm({ kind: 'add' });
                  }}
                >
                  <span aria-hidden="true" class="btn-icon">
                    +
                  </span>
                  Add credential
                </button>
              </div>
            </header>

            {list.length > 0 && (
              <div class="toolbar" role="search" aria-label="Find credentials">
                <label class="visually-hidden" for="search">
                  Search credentials
                </label>
                <input
                  id="search"
                  class="input search"
                  type="search"
                  placeholder="Search name, provider, environment"
                  value={query}
                  data-testid="search-input"
                  onInput={(e) => setQuery(e.currentTarget.value)}
                />
                <label class="visually-hidden" for="provider-filter">
                  Provider filter
                </label>
                <select
                  id="provider-filter"
                  class="input select select-compact"
                  value={providerFilter}
                  data-testid="provider-filter"
                  onChange={(e) => setProviderFilter(e.currentTarget.value)}
                >
                  <option value="">All providers</option>
                  {kindsPresent.map(([kind, label]) => (
                    <option key={kind} value={kind}>
                      {label}
                    </option>
                  ))}
                </select>
                <label class="visually-hidden" for="status-filter">
                  Status filter
                </label>
                <select
                  id="status-filter"
                  class="input select select-compact"
                  value={statusFilter}
                  data-testid="status-filter"
                  onChange={(e) => setStatusFilter(e.currentTarget.value as StatusFilter)}
                >
                  <option value="all">Any status</option>
                  <option value="attention">Needs rotation</option>
                  <option value="overdue">Rotation overdue</option>
                  <option value="failed">Last test failed</option>
                  <option value="untested">Never tested</option>
                </select>
                <span class="toolbar-sort">
                <label class="inline-label" for="sort-select">
                  Sort
                </label>
                <select
                  id="sort-select"
                  class="input select select-compact"
                  value={prefs.sort}
                  data-testid="sort-select"
                  onChange={(e) => updatePref('sort', e.currentTarget.value as SortOrder)}
                >
                  <option value="name">Name</option>
                  <option value="provider">Provider</option>
                  <option value="rotation">Rotation due</option>
                  <option value="token">Token expiry</option>
                  <option value="newest">Newest first</option>
                </select>
                </span>
              </div>
            )}

            {testAllState && testAllState !== 'running' && (
              <p
                class={`test-all-summary ${testAllState.failed > 0 ? 'tone-bad' : 'tone-ok'}`}
                role="status"
                data-testid="test-all-summary"
              >
                Test all: {testAllState.passed} passed, {testAllState.failed} failed.
              </p>
            )}

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
                error={actionError.info}
                testId="action-error"
                title={actionError.title}
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
            {credentials.state === 'ready' && list.length === 0 && (
              <div class="empty" data-testid="empty-state">
                <p class="empty-title">No credentials yet</p>
                <p>Add the API credentials of your POS or payment provider to keep them in the OS keyring.</p>
                {!demo && (
                  <div class="empty-demo">
                    <p>
                      New to Tillkey? Open the <strong>demo vault</strong>: one credential for each provider,
                      backed by simulators inside the app, so you can test, copy and rotate without any account.
                      It is kept apart from your own vault.
                    </p>
                    <button
                      type="button"
                      class="btn btn-primary"
                      disabled={switching}
                      data-testid="open-demo"
                      onClick={() => void switchVault(true)}
                    >
                      {switching ? 'Starting the simulators…' : 'Open the demo vault'}
                    </button>
                  </div>
                )}
              </div>
            )}
            {credentials.state === 'ready' && list.length > 0 && visible.length === 0 && (
              <div class="empty" data-testid="no-match">
                <p class="empty-title">No credential matches</p>
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  onClick={() => {
                    setQuery('');
                    setProviderFilter('');
                    setStatusFilter('all');
                  }}
                >
                  Clear search and filters
                </button>
              </div>
            )}
            {visible.length > 0 && (
              <>
                {filtered && (
                  <p class="filter-note" data-testid="filter-note">
                    Showing {plural(visible.length, 'credential')} of {list.length}.
                  </p>
                )}
                <CredentialList
                  credentials={visible}
                  now={now}
                  highlight={highlight}
                  reports={reports}
                  testing={testing}
                  vaultLabel={
                    info && hasTeamVaults && !info.demo
                      ? info.team
                        ? `Team vault ${info.vault}`
                        : 'This computer (OS keyring)'
                      : null
                  }
                  readOnly={readOnly}
                  onTest={(name) => void runTest(name)}
                  onHideReport={(name) => setReports(({ [name]: _hidden, ...rest }) => rest)}
                  onRotate={(name) => setRotating(name)}
                  onMarkRotated={onMarkRotated}
                  onEdit={(name) => {
                    const c = list.find((x) => x.name === name);
                    if (c) setForm({ kind: 'edit', credential: c });
                  }}
                  onRemove={onRemove}
                  onTokenUsed={() => void refresh()}
                />
              </>
            )}
          </section>
        )}
      </main>

      {rotatingCredential && (
        <RotationWizard
          credential={rotatingCredential}
          schema={providerList.find((p) => p.kind === rotatingCredential.provider)}
          demo={demo}
          onRotated={(updated) => {
            setAnnouncement(`Rotated “${updated.name}”.`);
            setReports(({ [updated.name]: _old, ...rest }) => rest);
            void refresh();
          }}
          onClose={() => {
            setRotating(null);
            void refresh();
          }}
        />
      )}

      {settingsOpen && (
        <SettingsDialog
          onSaved={(s) => {
            setSettingsOpen(false);
            setAnnouncement(
              `Saved: reminders ${plural(s.reminderLeadDays, 'day')} ahead; new credentials rotate every ${plural(s.defaultRotationDays, 'day')}.`,
            );
            void refresh();
          }}
          onClose={() => setSettingsOpen(false)}
        />
      )}
    </div>
  );
}
