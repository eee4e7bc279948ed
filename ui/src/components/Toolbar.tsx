import type { StatusFilter } from '../filters';
import type { Filters } from '../hooks/useFilters';
import type { SortOrder } from '../prefs';

interface Props {
  filters: Filters;
  sort: SortOrder;
  onSort: (sort: SortOrder) => void;
}

/** Search, provider and status filters, and the list order (a saved preference). */
export function Toolbar({ filters: f, sort, onSort }: Props) {
  return (
    <div class="toolbar" role="search" aria-label="Find credentials">
      <label class="visually-hidden" for="search">
        Search credentials
      </label>
      <input
        id="search"
        class="input search"
        type="search"
        placeholder="Search name, provider, environment"
        value={f.query}
        data-testid="search-input"
        onInput={(e) => f.setQuery(e.currentTarget.value)}
      />
      <label class="visually-hidden" for="provider-filter">
        Provider filter
      </label>
      <select
        id="provider-filter"
        class="input select select-compact"
        value={f.provider}
        data-testid="provider-filter"
        onChange={(e) => f.setProvider(e.currentTarget.value)}
      >
        <option value="">All providers</option>
        {f.kinds.map(([kind, label]) => (
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
        value={f.status}
        data-testid="status-filter"
        onChange={(e) => f.setStatus(e.currentTarget.value as StatusFilter)}
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
          value={sort}
          data-testid="sort-select"
          onChange={(e) => onSort(e.currentTarget.value as SortOrder)}
        >
          <option value="name">Name</option>
          <option value="provider">Provider</option>
          <option value="rotation">Rotation due</option>
          <option value="token">Token expiry</option>
          <option value="newest">Newest first</option>
        </select>
      </span>
    </div>
  );
}
