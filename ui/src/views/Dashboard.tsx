import type { Ref } from 'preact';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { IpcError } from '../bindings/IpcError';
import { CredentialList, type RowHandlers } from '../components/CredentialList';
import { EmptyVault, NoMatch } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Toolbar } from '../components/Toolbar';
import { plural } from '../format';
import type { Filters } from '../hooks/useFilters';
import { useNow } from '../hooks/useNow';
import { rotationSummary, type Reminders } from '../hooks/useReminders';
import type { TestReports } from '../hooks/useTestReports';
import type { Vault } from '../hooks/useVault';
import type { SortOrder } from '../prefs';

interface Props {
  vault: Vault;
  /** The vault's credentials with this session's test results. */
  list: CredentialSummary[];
  filters: Filters;
  sort: SortOrder;
  onSort: (sort: SortOrder) => void;
  tests: TestReports;
  reminders: Reminders;
  /** The vault allows reading only (a team vault's policy). */
  readOnly: boolean;
  /** This machine has a team vault: rows say which vault holds them. */
  hasTeamVaults: boolean;
  /** The row just added or saved. */
  highlight: string | null;
  /** The demo vault is being opened or left. */
  switching: boolean;
  actionError: { title: string; info: IpcError } | null;
  onDismissError: () => void;
  addButtonRef: Ref<HTMLButtonElement>;
  onAdd: () => void;
  onTestAll: () => void;
  /** Opens the import dialog (not in the demo vault). */
  onImport?: () => void;
  onOpenDemo: () => void;
  rows: RowHandlers;
}

/**
 * The credentials card: count and rotation summary, Test all and Add, the toolbar, errors,
 * the empty states and the list itself.
 */
export function Dashboard({ vault, list, filters, tests, reminders, readOnly, highlight, switching, ...p }: Props) {
  const { credentials, providers, info } = vault;
  const now = useNow(vault.offset);
  const testAll = tests.testAllState;
  const visible = filters.visible;
  const vaultLabel =
    info && p.hasTeamVaults && !info.demo
      ? info.team
        ? `Team vault ${info.vault}`
        : 'This computer (OS keyring)'
      : null;

  return (
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
            {rotationSummary(reminders)}
          </p>
        </div>
        <div class="card-tools">
          <button
            type="button"
            class="btn btn-secondary"
            disabled={list.length === 0 || testAll === 'running'}
            data-testid="test-all"
            onClick={p.onTestAll}
          >
            {testAll === 'running' ? 'Testing all…' : 'Test all'}
          </button>
          {p.onImport && (
            <button
              type="button"
              class="btn btn-secondary"
              disabled={readOnly}
              data-testid="open-import"
              onClick={p.onImport}
            >
              Import…
            </button>
          )}
          <button
            ref={p.addButtonRef}
            type="button"
            class="btn btn-primary"
            disabled={providers.state !== 'ready' || readOnly}
            title={readOnly ? 'This team vault is read-only for you' : undefined}
            data-testid="open-add-form"
            onClick={p.onAdd}
          >
            <span aria-hidden="true" class="btn-icon">
              +
            </span>
            Add credential
          </button>
        </div>
      </header>

      {list.length > 0 && <Toolbar filters={filters} sort={p.sort} onSort={p.onSort} />}

      {testAll && testAll !== 'running' && (
        <p
          class={`test-all-summary ${testAll.failed > 0 ? 'tone-bad' : 'tone-ok'}`}
          role="status"
          data-testid="test-all-summary"
        >
          Test all: {testAll.passed} passed, {testAll.failed} failed.
        </p>
      )}

      {providers.state === 'error' && (
        <ErrorNotice
          error={providers.error}
          testId="providers-error"
          title="Could not load the provider list"
          onRetry={() => void vault.loadProviders()}
        />
      )}

      {p.actionError && (
        <ErrorNotice
          error={p.actionError.info}
          testId="action-error"
          title={p.actionError.title}
          onDismiss={p.onDismissError}
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
          onRetry={() => void vault.refresh()}
        />
      )}
      {credentials.state === 'ready' && list.length === 0 && (
        <EmptyVault demo={info?.demo ?? false} opening={switching} onOpenDemo={p.onOpenDemo} />
      )}
      {credentials.state === 'ready' && list.length > 0 && visible.length === 0 && (
        <NoMatch onClear={filters.reset} />
      )}
      {visible.length > 0 && (
        <>
          {filters.active && (
            <p class="filter-note" data-testid="filter-note">
              Showing {plural(visible.length, 'credential')} of {list.length}.
            </p>
          )}
          <CredentialList
            credentials={visible}
            now={now}
            highlight={highlight}
            reports={tests.open}
            testing={tests.testing}
            vaultLabel={vaultLabel}
            readOnly={readOnly}
            {...p.rows}
          />
        </>
      )}
    </section>
  );
}
