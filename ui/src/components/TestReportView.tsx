import type { TestReport } from '../bindings/TestReport';
import { formatDate, formatTime, rateLimitText, stageLabel } from '../format';
import { useState } from 'preact/hooks';
import { InlineCode } from './InlineCode';
import { InspectorDialog } from './inspector/InspectorDialog';

interface Props {
  report: TestReport;
  /** Prefix of data-testid attributes. */
  testId?: string;
  onClose?: () => void;
  /**
   * Offer "Show request details" (the recorded exchanges of this credential's last test).
   * Defaults to the stored credential's report (the one with `onClose`); a rotation
   * candidate's test is not recorded.
   */
  details?: boolean;
}

/**
 * A connectivity test at a glance: passed or failed, then one line per stage with its
 * latency, HTTP status, provider error code with the hint, and rate-limit headers.
 */
export function TestReportView({ report, testId = 'test-report', onClose, details = onClose !== undefined }: Props) {
  const failed = report.stages.find((s) => !s.ok);
  const [inspecting, setInspecting] = useState(false);
  return (
    <section
      class={`report ${report.ok ? 'report-ok' : 'report-bad'}`}
      data-testid={testId}
      data-ok={String(report.ok)}
      aria-label={`Connectivity test of ${report.credential}`}
    >
      <header class="report-header">
        <p class="report-verdict" data-testid={`${testId}-verdict`}>
          <span class="report-icon" aria-hidden="true">
            {report.ok ? '✓' : '✕'}
          </span>
          {report.ok ? 'Test passed' : 'Test failed'}
          <span class="report-summary">
            <InlineCode text={report.summary} />
          </span>
        </p>
        <p class="report-when">
          <time dateTime={report.testedAt}>
            {formatDate(report.testedAt)} {formatTime(report.testedAt)}
          </time>
          {details && (
            <button
              type="button"
              class="btn btn-ghost btn-small"
              data-testid={`${testId}-details`}
              aria-label={`Show request details of ${report.credential}`}
              onClick={() => setInspecting(true)}
            >
              Show request details
            </button>
          )}
          {onClose && (
            <button
              type="button"
              class="btn btn-ghost btn-small"
              aria-label={`Hide the test result of ${report.credential}`}
              onClick={onClose}
            >
              Hide
            </button>
          )}
        </p>
      </header>
      <ol class="stages">
        {report.stages.map((s) => (
          <li
            key={s.stage}
            class={`stage ${s.ok ? 'stage-ok' : 'stage-bad'}`}
            data-testid={`${testId}-stage`}
            data-stage={s.stage}
            data-ok={String(s.ok)}
          >
            <span class="stage-mark" aria-label={s.ok ? 'passed' : 'failed'}>
              {s.ok ? '✓' : '✕'}
            </span>
            <span class="stage-name">{stageLabel(s.stage)}</span>
            <span class="stage-latency" title="Latency">
              {s.latencyMs} ms
            </span>
            <span class="stage-status" data-testid={`${testId}-http`}>
              {s.status !== null ? `HTTP ${s.status}` : ''}
            </span>
            <div class="stage-detail">
              <p class="stage-message">
                {s.code && (
                  <code class="stage-code" data-testid={`${testId}-code`}>
                    {s.code}
                  </code>
                )}
                <InlineCode text={s.message} />
              </p>
              {s.target && <p class="stage-target">{s.target}</p>}
              {s.hint && (
                <p class="stage-hint" data-testid={`${testId}-hint`}>
                  <strong>What to do:</strong> <InlineCode text={s.hint} />
                </p>
              )}
              {s.rateLimit && (
                <p class="stage-rate" data-testid={`${testId}-rate`}>
                  Rate limit: {rateLimitText(s.rateLimit)}
                </p>
              )}
            </div>
          </li>
        ))}
      </ol>
      {report.taxpayerTags && (
        <p class="report-tags">Taxpayer tags: {report.taxpayerTags.join(', ') || 'none'}</p>
      )}
      {!report.ok && !failed && report.stages.length === 0 && (
        <p class="stage-hint">The test stopped before reaching the provider.</p>
      )}
      {inspecting && <InspectorDialog credential={report.credential} onClose={() => setInspecting(false)} />}
    </section>
  );
}
