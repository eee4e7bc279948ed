// The list's search box and filters, and the credentials they leave, in the chosen order.

import { useCallback, useMemo, useState } from 'preact/hooks';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { SortOrder } from '../bindings/SortOrder';
import { matches, sortCredentials, type StatusFilter } from '../filters';

export function useFilters(list: CredentialSummary[], sort: SortOrder) {
  const [query, setQuery] = useState('');
  const [provider, setProvider] = useState('');
  const [status, setStatus] = useState<StatusFilter>('all');

  const visible = useMemo(
    () => sortCredentials(list.filter((c) => matches(c, query, provider, status)), sort),
    [list, query, provider, status, sort],
  );
  /** The provider kinds in the vault, with their labels, for the provider filter. */
  const kinds = useMemo(() => {
    const seen = new Map<string, string>();
    for (const c of list) seen.set(c.provider, c.providerLabel);
    return [...seen.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  }, [list]);

  const reset = useCallback(() => {
    setQuery('');
    setProvider('');
    setStatus('all');
  }, []);

  return {
    query,
    setQuery,
    provider,
    setProvider,
    status,
    setStatus,
    visible,
    kinds,
    /** Whether anything narrows the list. */
    active: query !== '' || provider !== '' || status !== 'all',
    reset,
  };
}

export type Filters = ReturnType<typeof useFilters>;
