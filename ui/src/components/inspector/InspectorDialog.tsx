import { useEffect, useState } from 'preact/hooks';
import { inspectCredential, toApiError } from '../../api';
import type { Inspection } from '../../bindings/Inspection';
import type { IpcError } from '../../bindings/IpcError';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';
import { TraceView } from './TraceView';
import './inspector.css';

interface Props {
  /** The credential whose last token request and test are shown. */
  credential: string;
  onClose: () => void;
}

/**
 * "Request details": exactly what the last test and the last token request of a credential
 * sent and received, as `tillkey test NAME --trace` prints it. Every secret was masked in
 * Rust before it was recorded; nothing shown here is secret.
 */
export function InspectorDialog({ credential, onClose }: Props) {
  const [inspection, setInspection] = useState<Inspection | null>(null);
  const [error, setError] = useState<IpcError | null>(null);

  useEffect(() => {
    let live = true;
    inspectCredential(credential)
      .then((i) => live && setInspection(i))
      .catch((e) => live && setError(toApiError(e).info));
    return () => {
      live = false;
    };
  }, [credential]);

  return (
    <Modal
      title={`Request details of ${credential}`}
      titleId="inspector-title"
      testId="inspector"
      wide
      onClose={onClose}
    >
      <p class="inspector-note">
        What Tillkey sent and received, secrets masked: <code>••••</code> by name (tokens,
        passwords, keys, cookies), <code>[redacted]</code> where a credential's own secret
        showed up elsewhere.
      </p>
      {error && <ErrorNotice error={error} testId="inspector-error" title="The request details could not be read" />}
      {!error && !inspection && <p data-testid="inspector-loading">Loading…</p>}
      {inspection && (
        <div data-testid="inspector-content">
          {inspection.problems.map((p) => (
            <p class="stage-hint" data-testid="inspector-problem" key={p}>
              {p}
            </p>
          ))}
          {inspection.test ? (
            <TraceView trace={inspection.test} testId="inspector-test" />
          ) : (
            <p data-testid="inspector-no-test">No test of {credential} has been recorded yet.</p>
          )}
          {inspection.token ? (
            <TraceView trace={inspection.token} testId="inspector-token" />
          ) : (
            <p data-testid="inspector-no-token">
              No token request of its own has been recorded (copying a token that is still cached sends none).
            </p>
          )}
        </div>
      )}
    </Modal>
  );
}
