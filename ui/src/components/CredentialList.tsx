import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { TestReport } from '../bindings/TestReport';
import { PAGE_ROWS, useIncrementalRows } from '../hooks/useIncrementalRows';
import { CredentialRow, type RowHandlers } from './list/CredentialRow';

export type { RowHandlers };

interface Props extends RowHandlers {
  credentials: CredentialSummary[];
  /** "Now" in ms on the app's clock. */
  now: number;
  highlight: string | null;
  /** Test results to show open, by credential name. */
  reports: Record<string, TestReport>;
  /** Credentials being tested right now. */
  testing: ReadonlySet<string>;
  /** Which vault holds these credentials, in words ("This computer (OS keyring)", "Team vault
   * shop"); `null` when this machine has no team vault (then there is only one place). */
  vaultLabel: string | null;
  /** The vault allows reading only (a team vault's policy): no rotate, mark, edit or remove. */
  readOnly: boolean;
}

/** The vault's credentials: one card each with its status and actions. */
export function CredentialList({ credentials, now, highlight, reports, testing, vaultLabel, readOnly, ...actions }: Props) {
  const mustShow = highlight ? credentials.findIndex((c) => c.name === highlight) + 1 : 0;
  const { shown, sentinel, more } = useIncrementalRows(credentials.length, mustShow);
  const rows = shown < credentials.length ? credentials.slice(0, shown) : credentials;
  return (
    <ul class="creds" data-testid="credential-list" aria-label="Credentials">
      {rows.map((c) => (
        <CredentialRow
          key={c.id}
          credential={c}
          now={now}
          highlighted={c.name === highlight}
          report={reports[c.name]}
          testing={testing.has(c.name)}
          vaultLabel={vaultLabel}
          readOnly={readOnly}
          {...actions}
        />
      ))}
      {shown < credentials.length && (
        <li class="creds-more" ref={sentinel} data-testid="list-more">
          <span>
            Showing {shown} of {credentials.length}.
          </span>
          <button type="button" class="btn btn-ghost btn-small" data-testid="show-more" onClick={more}>
            Show {Math.min(PAGE_ROWS, credentials.length - shown)} more
          </button>
        </li>
      )}
    </ul>
  );
}
