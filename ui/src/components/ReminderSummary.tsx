import { rotationText } from '../format';
import type { Reminders } from '../hooks/useReminders';

interface Props extends Reminders {
  onRotate: (name: string) => void;
}

/** The credentials whose rotation is overdue or due soon, each with its Rotate button. */
export function ReminderSummary({ overdue, dueSoon, onRotate }: Props) {
  return (
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
              onClick={() => onRotate(c.name)}
            >
              Rotate…
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
