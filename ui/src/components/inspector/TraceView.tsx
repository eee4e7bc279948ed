import type { BodyShown } from '../../bindings/BodyShown';
import type { Exchange } from '../../bindings/Exchange';
import type { HeaderLine } from '../../bindings/HeaderLine';
import type { Trace } from '../../bindings/Trace';
import { formatDate, formatTime, stageLabel } from '../../format';

interface Props {
  trace: Trace;
  /** Prefix of data-testid attributes. */
  testId: string;
}

/** One recorded test or token request: its outcome, stage timings and HTTP exchanges. */
export function TraceView({ trace, testId }: Props) {
  const what = trace.kind === 'test' ? 'Last test' : 'Last token request';
  return (
    <section class="trace" data-testid={testId} data-ok={String(trace.ok)}>
      <h3 class="trace-title">
        {what}{' '}
        <time dateTime={trace.recordedAt}>
          {formatDate(trace.recordedAt)} {formatTime(trace.recordedAt)}
        </time>
      </h3>
      <p class={trace.ok ? 'trace-outcome trace-ok' : 'trace-outcome trace-bad'}>{trace.outcome}</p>
      {trace.stages.length > 0 && (
        <table class="trace-stages" aria-label="Timings per stage">
          <tbody>
            {trace.stages.map((s) => (
              <tr key={s.stage} data-testid={`${testId}-stage`}>
                <th scope="row">{stageLabel(s.stage)}</th>
                <td>{s.ok ? 'passed' : 'failed'}</td>
                <td class="trace-ms">{s.latencyMs} ms</td>
                <td>{s.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {trace.exchanges.map((x, i) => (
        <ExchangeView key={i} n={i + 1} x={x} testId={`${testId}-exchange`} />
      ))}
    </section>
  );
}

function ExchangeView({ n, x, testId }: { n: number; x: Exchange; testId: string }) {
  const answer =
    x.status !== null
      ? `HTTP ${x.status}, ${x.headersMs !== null ? `headers ${x.headersMs} ms, ` : ''}total ${x.totalMs} ms`
      : `no answer after ${x.totalMs} ms`;
  return (
    <details class="exchange" data-testid={testId} open>
      <summary>
        <span class="exchange-purpose">
          #{n} {x.purpose}
        </span>{' '}
        <code class="exchange-line">
          {x.method} {x.url}
        </code>{' '}
        <span class="exchange-answer">{answer}</span>
      </summary>
      <div class="exchange-body">
        <h4>Request</h4>
        <Headers lines={x.requestHeaders} testId={`${testId}-request-header`} />
        {x.requestBody && <Body body={x.requestBody} testId={`${testId}-request-body`} />}
        <h4>Response</h4>
        {x.error && <p class="stage-hint">{x.error}</p>}
        <Headers lines={x.responseHeaders} testId={`${testId}-response-header`} />
        {x.responseBody && <Body body={x.responseBody} testId={`${testId}-response-body`} />}
      </div>
    </details>
  );
}

function Headers({ lines, testId }: { lines: HeaderLine[]; testId: string }) {
  if (lines.length === 0) return null;
  return (
    <table class="exchange-headers">
      <tbody>
        {lines.map((h, i) => (
          <tr key={i} data-testid={testId} data-name={h.name}>
            <th scope="row">{h.name}</th>
            <td>
              <code>{h.value}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Body({ body, testId }: { body: BodyShown; testId: string }) {
  return (
    <figure class="exchange-figure">
      <figcaption>
        Body, {body.bytes} bytes{body.truncated ? ' (cut)' : ''}
      </figcaption>
      <pre class="exchange-pre" data-testid={testId}>
        {body.text}
      </pre>
    </figure>
  );
}
