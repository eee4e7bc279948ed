// Rotation reminders in the window: the credentials overdue and due soon.

import { useMemo } from 'preact/hooks';
import type { CredentialSummary } from '../bindings/CredentialSummary';

export function useReminders(list: CredentialSummary[]) {
  return useMemo(
    () => ({
      overdue: list.filter((c) => c.rotation.status === 'overdue'),
      dueSoon: list.filter((c) => c.rotation.status === 'dueSoon'),
    }),
    [list],
  );
}

export type Reminders = ReturnType<typeof useReminders>;

/** The dashboard's line under its title: how many rotations are due, or what decides that. */
export function rotationSummary({ overdue, dueSoon }: Reminders): string {
  if (overdue.length + dueSoon.length === 0) return 'Rotation reminders follow each credential’s rotation period.';
  const parts = [
    overdue.length > 0 ? `${overdue.length} overdue` : '',
    dueSoon.length > 0 ? `${dueSoon.length} due soon` : '',
  ];
  return `Rotation: ${parts.filter(Boolean).join(', ')}.`;
}
