import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { leaveDemo, lockVault, markRotated, openDemo, removeCredential, switchVault as openVault, takeDroppedFile, toApiError } from './api';
import type { AppInfo } from './bindings/AppInfo';
import type { CredentialSummary } from './bindings/CredentialSummary';
import type { IpcError } from './bindings/IpcError';
import { CredentialForm, type FormMode } from './components/CredentialForm';
import type { RowHandlers } from './components/CredentialList';
import { DemoBanner } from './components/DemoBanner';
import { ImportDialog } from './components/import/ImportDialog';
import { LockBanner } from './components/lock/LockBanner';
import { UnlockDialog } from './components/lock/UnlockDialog';
import { ReminderSummary } from './components/ReminderSummary';
import { RotationWizard } from './components/RotationWizard';
import { SettingsDialog } from './components/SettingsDialog';
import { TopBar } from './components/TopBar';
import { VaultNotice } from './components/VaultSwitcher';
import { plural, rotationText } from './format';
import { useFilters } from './hooks/useFilters';
import { useFirstPaintReport } from './hooks/useFirstPaintReport';
import { useFocusRequests } from './hooks/useFocusRequests';
import { useLock } from './hooks/useLock';
import { usePreferences } from './hooks/usePreferences';
import { useReminders } from './hooks/useReminders';
import { useTestReports } from './hooks/useTestReports';
import { useVault } from './hooks/useVault';
import { loadLastVault, saveLastVault } from './prefs';
import { Dashboard } from './views/Dashboard';

/**
 * The window: top bar, demo and team-vault notices, rotation reminders, then either the
 * credential form or the dashboard; the rotation wizard and reminder settings as dialogs.
 * Actions on credentials live here: they announce their outcome and re-read the vault.
 */
export function App() {
  const { prefs, updatePref } = usePreferences();
  const vault = useVault();
  const tests = useTestReports();
  const [form, setForm] = useState<FormMode | null>(null);
  const [rotating, setRotating] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [highlight, setHighlight] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ title: string; info: IpcError } | null>(null);
  const [switching, setSwitching] = useState(false);
  const [readOnly, setReadOnly] = useState(false);
  const [hasTeamVaults, setHasTeamVaults] = useState(false);
  const [focusNotice, setFocusNotice] = useState<string | null>(null);
  // The import dialog: closed (null), opened by the button (''), or on a dropped file.
  const [importing, setImporting] = useState<string | null>(null);
  const addButtonRef = useRef<HTMLButtonElement>(null);
  const { info, credentials, providers, refresh } = vault;

  const stored = credentials.state === 'ready' ? credentials.value : null;
  const list = useMemo(() => tests.withLatest(stored ?? []), [stored, tests.withLatest]);
  const filters = useFilters(list, prefs.sort);
  const reminders = useReminders(list);
  const lock = useLock();
  useFirstPaintReport(credentials, info);

  // The highlight of a just-added row fades after a few seconds.
  useEffect(() => {
    if (!highlight) return;
    const timer = window.setTimeout(() => setHighlight(null), 4000);
    return () => window.clearTimeout(timer);
  }, [highlight]);

  function focusAdd() {
    requestAnimationFrame(() => addButtonRef.current?.focus());
  }

  function failed(title: string, err: unknown) {
    setActionError({ title, info: toApiError(err).info });
  }

  /** Another vault is shown: no results, summary, form, wizard or filters of the last one. */
  const resetView = useCallback(() => {
    tests.reset();
    setForm(null);
    setRotating(null);
    filters.reset();
  }, [tests.reset, filters.reset]);

  const runTest = useCallback(
    async (name: string) => {
      setActionError(null);
      try {
        const report = await tests.run(name);
        setAnnouncement(`Test of “${name}” ${report.ok ? 'passed' : 'failed'}: ${report.summary}`);
      } catch (err) {
        failed(`Could not test “${name}”`, err);
      } finally {
        await refresh();
      }
    },
    [tests.run, refresh],
  );

  async function onSaved(saved: CredentialSummary, test: boolean) {
    const wasEdit = form?.kind === 'edit';
    if (form?.kind === 'edit' && form.credential.name !== saved.name) tests.forget(form.credential.name);
    setForm(null);
    setHighlight(saved.name);
    setAnnouncement(wasEdit ? `Saved “${saved.name}”.` : `Added “${saved.name}”. Its secrets are in the OS keyring.`);
    await refresh();
    if (test) await runTest(saved.name);
    requestAnimationFrame(() => {
      document.querySelector<HTMLElement>(`[data-testid="credential-row"][data-name="${CSS.escape(saved.name)}"] [data-testid="test-button"]`)?.focus();
    });
  }

  async function onTestAll() {
    setActionError(null);
    try {
      const all = await tests.runAll(list.map((c) => c.name));
      const passed = all.filter((r) => r.ok).length;
      setAnnouncement(`Test all: ${passed} passed, ${all.length - passed} failed.`);
    } catch (err) {
      failed('Could not run the tests', err);
    } finally {
      await refresh();
    }
  }

  const rows: RowHandlers = {
    onTest: (name) => void runTest(name),
    onHideReport: tests.hide,
    onRotate: setRotating,
    onMarkRotated: async (name) => {
      setActionError(null);
      try {
        const updated = await markRotated(name);
        setAnnouncement(`Marked “${name}” as rotated today. ${rotationText(updated.rotation).detail}.`);
      } catch (err) {
        failed(`Could not mark “${name}” as rotated`, err);
      }
      await refresh();
    },
    onEdit: (name) => {
      const c = list.find((x) => x.name === name);
      if (c) setForm({ kind: 'edit', credential: c });
    },
    onRemove: async (name) => {
      setActionError(null);
      try {
        await removeCredential(name);
        setAnnouncement(`Removed “${name}” and its keyring entries.`);
        if (highlight === name) setHighlight(null);
        tests.forget(name);
      } catch (err) {
        failed(`Could not remove “${name}”`, err);
      }
      await refresh();
      focusAdd();
    },
    onTokenUsed: () => void refresh(),
  };

  async function switchDemo(toDemo: boolean) {
    setSwitching(true);
    setActionError(null);
    try {
      const i = toDemo ? await openDemo() : await leaveDemo();
      resetView();
      setAnnouncement(toDemo ? 'Opened the demo vault: simulated providers, nothing real.' : 'Back in your own vault.');
      await vault.show(i, false);
    } catch (err) {
      failed(toDemo ? 'Could not open the demo vault' : 'Could not leave the demo vault', err);
    } finally {
      setSwitching(false);
    }
  }

  /** After the vault switcher opened another vault: start clean on its list. */
  const onVaultSwitched = useCallback(
    (i: AppInfo) => {
      resetView();
      setAnnouncement(i.team ? `Showing team vault ${i.vault}.` : 'Showing the vault on this computer.');
      void saveLastVault(i.vault);
      void vault.show(i, true);
    },
    [resetView, vault.show],
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

  // A file dropped on the window: the import dialog checks it.
  useEffect(() => {
    const take = () => {
      void takeDroppedFile()
        .then((path) => {
          if (path) {
            setImporting(null);
            requestAnimationFrame(() => setImporting(path));
          }
        })
        .catch(() => undefined);
    };
    window.addEventListener('tillkey-drop', take);
    return () => window.removeEventListener('tillkey-drop', take);
  }, []);

  // A tray item or a reminder's action opened the window on some credentials: show their
  // vault, point at the first one, and say why the window opened.
  useFocusRequests(info !== null && info !== undefined, async (request) => {
    if (info && !info.demo && info.vault !== request.vault) {
      try {
        onVaultSwitched(await openVault(request.vault));
      } catch (err) {
        failed(`Could not open vault ${request.vault}`, err);
        return;
      }
    }
    const names = request.names.join(', ');
    setFocusNotice(`${request.reason}: ${names}.`);
    setAnnouncement(`${request.reason}: ${names}.`);
    setForm(null);
    await refresh();
    const first = request.names[0] ?? '';
    setHighlight(first);
    const selector = `[data-testid="credential-row"][data-name="${CSS.escape(first)}"]`;
    let tries = 0;
    const scroll = () => {
      const row = document.querySelector<HTMLElement>(selector);
      if (row) row.scrollIntoView({ block: 'nearest' });
      else if (++tries < 40) window.setTimeout(scroll, 50);
    };
    scroll();
  });

  const rotatingCredential = rotating ? list.find((c) => c.name === rotating) : undefined;
  const providerList = providers.state === 'ready' ? providers.value : [];
  const demo = info?.demo ?? false;
  const lockStatus = lock.status;
  const locked = !demo && (lockStatus?.locked ?? false);

  async function lockNow() {
    try {
      lock.setStatus(await lockVault());
      setAnnouncement('Tillkey is locked, for this window and for scripts.');
    } catch (err) {
      failed('Could not lock Tillkey', err);
    }
  }

  return (
    <div class={demo ? 'app app-demo' : 'app'}>
      <TopBar
        info={info}
        theme={prefs.theme}
        onTheme={(theme) => updatePref('theme', theme)}
        onOpenSettings={() => setSettingsOpen(true)}
        onVaultSwitched={onVaultSwitched}
        onVaultError={onVaultError}
        onVaults={setHasTeamVaults}
        onLock={!demo && lockStatus?.passphrase && !lockStatus.locked ? () => void lockNow() : undefined}
      />

      {locked && lockStatus && <LockBanner status={lockStatus} onUnlock={() => void lock.ask('Type the vault passphrase to unlock Tillkey.')} />}

      {demo && <DemoBanner leaving={switching} onLeave={() => void switchDemo(false)} />}

      <VaultNotice
        info={info}
        onAccess={setReadOnly}
        onDisconnected={(name, i) => {
          onVaultSwitched(i);
          setAnnouncement(`Disconnected team vault ${name} from this computer; showing the vault on this computer.`);
        }}
        onError={onVaultError}
      />

      <main class="content">
        <p class="visually-hidden" role="status" aria-live="polite" data-testid="announcement">
          {announcement}
        </p>

        {focusNotice && !form && (
          <div class="focus-notice" role="note" data-testid="focus-notice">
            <span>{focusNotice}</span>
            <button type="button" class="btn btn-secondary" onClick={() => setFocusNotice(null)}>
              Dismiss
            </button>
          </div>
        )}

        {(reminders.overdue.length > 0 || reminders.dueSoon.length > 0) && !form && (
          <ReminderSummary {...reminders} onRotate={setRotating} />
        )}

        {form && providers.state === 'ready' && (
          <CredentialForm
            mode={form}
            providers={providers.value}
            takenNames={list.map((c) => c.name)}
            onSaved={(c, t) => void onSaved(c, t)}
            onCancel={() => {
              setForm(null);
              focusAdd();
            }}
          />
        )}

        {!form && (
          <Dashboard
            vault={vault}
            list={list}
            filters={filters}
            sort={prefs.sort}
            onSort={(sort) => updatePref('sort', sort)}
            tests={tests}
            reminders={reminders}
            readOnly={readOnly}
            hasTeamVaults={hasTeamVaults}
            highlight={highlight}
            switching={switching}
            actionError={actionError}
            onDismissError={() => setActionError(null)}
            addButtonRef={addButtonRef}
            onAdd={() => {
              setActionError(null);
              setForm({ kind: 'add' });
            }}
            onTestAll={() => void onTestAll()}
            onImport={demo ? undefined : () => setImporting('')}
            onOpenDemo={() => void switchDemo(true)}
            rows={rows}
          />
        )}
      </main>

      {rotatingCredential && (
        <RotationWizard
          credential={rotatingCredential}
          schema={providerList.find((p) => p.kind === rotatingCredential.provider)}
          demo={demo}
          onRotated={(updated) => {
            setAnnouncement(`Rotated “${updated.name}”.`);
            tests.hide(updated.name);
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
          lock={lockStatus}
          onLockChanged={(s, message) => {
            lock.setStatus(s);
            setAnnouncement(message);
          }}
        />
      )}

      {importing !== null && (
        <ImportDialog
          key={importing}
          initialPath={importing || null}
          onImported={(r) => {
            setAnnouncement(`Imported ${plural(r.imported.length, 'credential')}${r.skipped.length ? `; ${r.skipped.length} skipped` : ''}.`);
            const first = r.imported[0];
            if (first) setHighlight(first.name);
            void refresh();
          }}
          onClose={() => setImporting(null)}
        />
      )}

      {lock.request && (
        <UnlockDialog
          reason={lock.request.reason}
          onDone={(s) => {
            if (s) setAnnouncement('Tillkey is unlocked.');
            lock.done(s);
          }}
        />
      )}
    </div>
  );
}
