// Finding credentials in the list: the status filters, the search match and the sort orders.

import type { CredentialSummary } from './bindings/CredentialSummary';
import type { SortOrder } from './bindings/SortOrder';
import { rotationDueSortKey, tokenExpirySortKey } from './format';

export type StatusFilter = 'all' | 'attention' | 'overdue' | 'failed' | 'untested';

export function sortCredentials(list: CredentialSummary[], order: SortOrder): CredentialSummary[] {
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

/** Whether `c` is of `provider` ('' for any), in `status`, and matches `query`. */
export function matches(c: CredentialSummary, query: string, provider: string, status: StatusFilter): boolean {
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
