// Display helpers: dates and rotation status in words.

import type { CredentialSummary } from './bindings/CredentialSummary';
import type { Environment } from './bindings/Environment';
import type { RotationInfo } from './bindings/RotationInfo';

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
});

/** "Nov 23, 2025" style date in the merchant's locale; the raw value if unparsable. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Rotation status as a short label and a sentence with the numbers. */
export function rotationText(rotation: RotationInfo): { label: string; detail: string } {
  // ts-rs may type i64 as bigint; serde_json always sends a JSON number.
  const days = Number(rotation.daysLeft);
  const due = formatDate(rotation.dueAt);
  switch (rotation.status) {
    case 'ok':
      return { label: 'Up to date', detail: `Rotate in ${plural(days, 'day')} (${due})` };
    case 'dueSoon':
      return {
        label: 'Due soon',
        detail: days <= 0 ? `Rotate today (${due})` : `Rotate within ${plural(days, 'day')} (${due})`,
      };
    case 'overdue':
      return {
        label: 'Overdue',
        detail: `${plural(Math.max(1, -days), 'day')} past due (${due})`,
      };
  }
}

const ENVIRONMENT_LABELS: Record<Environment, string> = {
  production: 'Production',
  sandbox: 'Sandbox',
};

export function environmentLabel(env: Environment): string {
  return ENVIRONMENT_LABELS[env];
}

/** Sort weight for "rotation due first". */
export function rotationDueSortKey(c: CredentialSummary): number {
  const t = new Date(c.rotation.dueAt).getTime();
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}
