import { useEffect, useRef, useState } from 'preact/hooks';
import { copyToken, revealToken, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { IpcError } from '../bindings/IpcError';
import type { TestReport } from '../bindings/TestReport';
import { ago, environmentLabel, rotationText, tokenStatus } from '../format';
import { ErrorNotice } from './ErrorNotice';
import { TestReportView } from './TestReportView';

export interface RowActions {
  onTest: (name: string) => void;
  onHideReport: (name: string) => void;
  onRotate: (name: string) => void;
  onMarkRotated: (name: string) => Promise<void>;
  onEdit: (name: string) => void;
  onRemove: (name: string) => Promise<void>;
  /** A token was fetched or reused (copy, reveal): the token status changed. */
  onTokenUsed: () => void;
}

interface Props extends RowActions {
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

/** Rows rendered at first, and added each time the end of the list comes near. */
const PAGE_ROWS = 40;

/**
 * How many of `total` rows to render: a page at first, then another page whenever the
 * sentinel after the last rendered row scrolls within reach (or "Show more" is pressed).
 * A vault of hundreds of credentials paints its first screen fast and stays light while it
 * sits open; every row is still reachable by scrolling, by keyboard (the button), and by
 * the search box, which filters the whole vault. `mustShow` rows are always rendered (a
 * just-added credential that is highlighted and scrolled to).
 */
function useIncrementalRows(total: number, mustShow: number) {
  const [count, setCount] = useState(PAGE_ROWS);
  const sentinel = useRef<HTMLLIElement>(null);
  const shown = Math.min(total, Math.max(count, mustShow));
  useEffect(() => {
    const el = sentinel.current;
    if (!el || shown >= total || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setCount((n) => Math.max(n, shown) + PAGE_ROWS);
      },
      { rootMargin: '800px 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [shown, total]);
  const more = () => setCount((n) => Math.max(n, shown) + PAGE_ROWS);
  return { shown, sentinel, more };
}

/** The vault's credentials: one card each with its status and actions. */
export function CredentialList({ credentials, now, highlight, reports, testing, vaultLabel, readOnly, ...actions }: Props) {
  const mustShow = highlight ? credentials.findIndex((c) => c.name === highlight) + 1 : 0;
  const { shown, sentinel, more } = useIncrementalRows(credentials.length, mustShow);
  const rows = shown < credentials.length ? credentials.slice(0, shown) : credentials;
  return (
    <ul class="creds" data-testid="credential-list" aria-label="Credentials">
      {rows.map((c) => (
        <Row
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

interface RowProps extends RowActions {
  credential: CredentialSummary;
  now: number;
  highlighted: boolean;
  report: TestReport | undefined;
  testing: boolean;
  vaultLabel: string | null;
  readOnly: boolean;
}

type Copied = { until: number } | { cleared: true } | null;

function Row({ credential: c, now, highlighted, report, testing, vaultLabel, readOnly, ...a }: RowProps) {
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [copying, setCopying] = useState(false);
  const [copied, setCopied] = useState<Copied>(null);
  const [revealed, setRevealed] = useState<string | null>(null);
  const [revealing, setRevealing] = useState(false);
  const [marking, setMarking] = useState(false);
  const [error, setError] = useState<{ title: string; info: IpcError } | null>(null);
  const [tick, setTick] = useState(Date.now());
  const removeRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Move focus into the confirm step and back out of it, so keyboard users keep their place.
  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
    else if (wasConfirming.current) removeRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  // The clipboard countdown runs on the webview's own clock (it mirrors a Rust timer).
  useEffect(() => {
    if (!copied || !('until' in copied)) return;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setTick(t);
      if (t >= copied.until) setCopied({ cleared: true });
    }, 250);
    return () => window.clearInterval(timer);
  }, [copied]);

  // A revealed token hides itself after a minute.
  useEffect(() => {
    if (revealed === null) return;
    const timer = window.setTimeout(() => setRevealed(null), 60_000);
    return () => window.clearTimeout(timer);
  }, [revealed]);

  async function copy() {
    setError(null);
    setCopying(true);
    try {
      const r = await copyToken(c.name);
      setCopied({ until: Date.now() + r.clearsInSecs * 1000 });
      setTick(Date.now());
      a.onTokenUsed();
    } catch (err) {
      setError({ title: 'Could not copy a token', info: toApiError(err).info });
    } finally {
      setCopying(false);
    }
  }

  async function reveal() {
    if (revealed !== null) {
      setRevealed(null);
      return;
    }
    setError(null);
    setRevealing(true);
    try {
      setRevealed((await revealToken(c.name)).token);
      a.onTokenUsed();
    } catch (err) {
      setError({ title: 'Could not get a token', info: toApiError(err).info });
    } finally {
      setRevealing(false);
    }
  }

  async function mark() {
    setMarking(true);
    try {
      await a.onMarkRotated(c.name);
    } finally {
      setMarking(false);
    }
  }

  async function confirmRemove() {
    setRemoving(true);
    try {
      await a.onRemove(c.name);
    } finally {
      setRemoving(false);
      setConfirming(false);
    }
  }

  const token = tokenStatus(c, now);
  const rotation = rotationText(c.rotation);
  const last = c.lastTest;
  const failedStage = last?.stages.find((s) => !s.ok);
  const headingId = `cred-${c.id}`;

  return (
    <li
      class={highlighted ? 'cred cred-highlight' : 'cred'}
      data-testid="credential-row"
      data-name={c.name}
      aria-labelledby={headingId}
    >
      <div class="cred-top">
        <div class="cred-title">
          <h3 class="cred-name" id={headingId} data-testid="cell-name">
            {c.name}
          </h3>
          <span class={`env-badge env-${c.environment}`} data-testid="cell-environment">
            {environmentLabel(c.environment)}
          </span>
        </div>
        <p class="cred-provider" data-testid="cell-provider">
          <span class="provider-label">{c.providerLabel}</span> <code class="provider-kind">{c.provider}</code>
        </p>
      </div>

      <dl class="facts">
        <div class="fact" data-testid="cell-token" data-tone={token.tone}>
          <dt>Token</dt>
          <dd>
            <span class={`tone tone-${token.tone}`}>{token.text}</span>
            <span class="fact-detail">{token.detail}</span>
          </dd>
        </div>
        <div class="fact" data-testid="cell-rotation" data-status={c.rotation.status}>
          <dt>Rotation</dt>
          <dd>
            <span class={`status status-${c.rotation.status}`} data-status={c.rotation.status}>
              <span class="status-dot" aria-hidden="true" />
              {rotation.label}
            </span>
            <span class="fact-detail">
              {rotation.detail} · every {c.rotationPeriodDays} days
            </span>
          </dd>
        </div>
        <div class="fact" data-testid="cell-test" data-ok={last ? String(last.ok) : ''}>
          <dt>Last test</dt>
          <dd>
            {testing ? (
              <span class="tone tone-muted">Testing…</span>
            ) : last ? (
              <span class={`tone tone-${last.ok ? 'ok' : 'bad'}`}>
                {last.ok ? '✓ Passed' : `✕ Failed${failedStage?.code ? `: ${failedStage.code}` : ''}`}
              </span>
            ) : (
              <span class="tone tone-muted">Never tested</span>
            )}
            <span class="fact-detail">{last ? ago(last.testedAt, now) : 'Run Test to check it'}</span>
          </dd>
        </div>
        {vaultLabel !== null && (
          <div class="fact" data-testid="cell-vault">
            <dt>Vault</dt>
            <dd>
              <span class="tone tone-muted">{vaultLabel}</span>
              {readOnly && <span class="fact-detail">read-only for you</span>}
            </dd>
          </div>
        )}
      </dl>

      <div class="cred-actions" role="group" aria-label={`Actions for ${c.name}`}>
        <button
          type="button"
          class="btn btn-secondary btn-small"
          disabled={testing}
          aria-label={`Test ${c.name}`}
          data-testid="test-button"
          onClick={() => a.onTest(c.name)}
        >
          {testing ? 'Testing…' : 'Test'}
        </button>
        <button
          type="button"
          class="btn btn-secondary btn-small"
          disabled={copying}
          aria-label={`Copy a token of ${c.name}`}
          data-testid="copy-button"
          onClick={() => void copy()}
        >
          {copying ? 'Getting token…' : 'Copy token'}
        </button>
        <button
          type="button"
          class="btn btn-ghost btn-small"
          disabled={revealing}
          aria-pressed={revealed !== null}
          aria-label={revealed !== null ? `Hide the token of ${c.name}` : `Reveal a token of ${c.name}`}
          data-testid="reveal-button"
          onClick={() => void reveal()}
        >
          {revealed !== null ? 'Hide token' : 'Reveal'}
        </button>
        <button
          type="button"
          class={`btn btn-small ${c.rotation.status === 'ok' ? 'btn-ghost' : 'btn-primary'}`}
          disabled={readOnly}
          aria-label={`Rotate ${c.name}`}
          data-testid="rotate-button"
          onClick={() => a.onRotate(c.name)}
        >
          Rotate…
        </button>
        <button
          type="button"
          class="btn btn-ghost btn-small"
          disabled={marking || readOnly}
          aria-label={`Mark ${c.name} as rotated today`}
          data-testid="mark-rotated-button"
          onClick={() => void mark()}
        >
          Mark as rotated
        </button>
        <button
          type="button"
          class="btn btn-ghost btn-small"
          disabled={readOnly}
          aria-label={`Edit ${c.name}`}
          data-testid="edit-button"
          onClick={() => a.onEdit(c.name)}
        >
          Edit
        </button>
        {confirming ? (
          <span class="confirm" role="group" aria-label={`Confirm removing ${c.name}`}>
            <span class="confirm-text">Remove?</span>
            <button
              type="button"
              class="btn btn-danger btn-small"
              disabled={removing}
              aria-label={`Yes, remove ${c.name} and its secrets`}
              data-testid="confirm-remove-button"
              onClick={() => void confirmRemove()}
            >
              {removing ? 'Removing…' : 'Remove'}
            </button>
            <button
              ref={cancelRef}
              type="button"
              class="btn btn-ghost btn-small"
              disabled={removing}
              aria-label={`Keep ${c.name}`}
              data-testid="cancel-remove-button"
              onClick={() => setConfirming(false)}
            >
              Keep
            </button>
          </span>
        ) : (
          <button
            ref={removeRef}
            type="button"
            class="btn btn-ghost btn-small btn-remove"
            disabled={readOnly}
            aria-label={`Remove ${c.name}`}
            data-testid="remove-button"
            onClick={() => setConfirming(true)}
          >
            Remove
          </button>
        )}
      </div>

      <div aria-live="polite">
        {copied && 'until' in copied && (
          <p class="inline-status" data-testid="copy-status">
            <span aria-hidden="true">✓</span> Copied, clears in {Math.max(0, Math.ceil((copied.until - tick) / 1000))} s
          </p>
        )}
        {copied && 'cleared' in copied && (
          <p class="inline-status inline-status-muted" data-testid="copy-status" data-cleared="true">
            Clipboard cleared (if it still held the token).
          </p>
        )}
      </div>

      {revealed !== null && (
        <div class="revealed">
          <label class="field-label" for={`revealed-${c.id}`}>
            Access token of {c.name} (hides in a minute)
          </label>
          <textarea
            id={`revealed-${c.id}`}
            class="input revealed-token"
            readOnly
            rows={2}
            value={revealed}
            data-testid="revealed-token"
          />
        </div>
      )}

      {error && (
        <ErrorNotice error={error.info} testId="row-error" title={error.title} onDismiss={() => setError(null)} />
      )}

      {report && <TestReportView report={report} onClose={() => a.onHideReport(c.name)} />}
    </li>
  );
}
