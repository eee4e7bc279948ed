import { useState } from 'preact/hooks';
import { demoNewSecret, rotateCredential, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { IpcError } from '../bindings/IpcError';
import type { OldTokenStatus } from '../bindings/OldTokenStatus';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import type { RotationResult } from '../bindings/RotationResult';
import { formatDate } from '../format';
import { fieldProblem } from '../validate';
import { ErrorNotice } from './ErrorNotice';
import { InlineCode } from './InlineCode';
import { Modal } from './Modal';
import { SecretInput } from './SecretInput';
import { TestReportView } from './TestReportView';

interface Props {
  credential: CredentialSummary;
  schema: ProviderSchema | undefined;
  /** Whether the demo vault is active (its simulated portal can make new secrets). */
  demo: boolean;
  /** Called when the secret was swapped in (the wizard stays open for the last step). */
  onRotated: (updated: CredentialSummary) => void;
  onClose: () => void;
}

type Step = 'enter' | 'testing' | 'failed' | 'retire' | 'done';

const STEPS: { id: string; label: string }[] = [
  { id: 'enter', label: 'New secret' },
  { id: 'test', label: 'Test it' },
  { id: 'swap', label: 'Swap it in' },
  { id: 'retire', label: 'Retire the old' },
];

function stepIndex(step: Step): number {
  switch (step) {
    case 'enter':
      return 0;
    case 'testing':
    case 'failed':
      return 1;
    case 'retire':
      return 3;
    case 'done':
      return 4;
  }
}

const OLD_TOKEN_TEXT: Record<OldTokenStatus, string> = {
  revoked: 'Tillkey revoked the old secret’s cached access token at the provider.',
  nothingCached: 'No access token of the old secret was cached, so there was none to revoke.',
  noEndpoint:
    'The provider has no revocation endpoint: Tillkey deleted its copy of the old token, which stays valid at the provider until it expires or you revoke the old secret below.',
  failed: 'The provider did not revoke the old secret’s cached token (see below); the rotation stands.',
};

/**
 * The rotation wizard, following the Paysera POS procedure: enter the new secret, test it,
 * swap it in (only if the test passed), then retire the old one — revoked by Tillkey where
 * the provider has an endpoint, otherwise in the portal, which the merchant confirms.
 * A failure at any step leaves the old credential working and untouched.
 */
export function RotationWizard({ credential, schema, demo, onRotated, onClose }: Props) {
  const secretFields = (schema?.fields ?? []).filter((f) => f.secret);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(secretFields.map((f) => [f.name, ''])),
  );
  const [step, setStep] = useState<Step>('enter');
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [result, setResult] = useState<RotationResult | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [demoMade, setDemoMade] = useState(false);

  async function makeDemoSecret() {
    setError(null);
    try {
      const made = await demoNewSecret(credential.name);
      setValues((old) => ({ ...old, [made.field]: made.value }));
      setProblem(null);
      setDemoMade(true);
    } catch (err) {
      setError(toApiError(err).info);
    }
  }

  async function run() {
    const given = Object.entries(values).filter(([, v]) => v.trim() !== '');
    if (given.length === 0) {
      setProblem(
        secretFields.length === 1 && secretFields[0]
          ? `Enter the new ${secretFields[0].label.toLowerCase()}.`
          : 'Enter at least one new secret value.',
      );
      document.getElementById(`rotate-${secretFields[0]?.name}`)?.focus();
      return;
    }
    for (const [k, v] of given) {
      const f = secretFields.find((s) => s.name === k);
      const p = f ? fieldProblem(f, v, false) : null;
      if (p) {
        setProblem(p);
        return;
      }
    }
    setProblem(null);
    setError(null);
    setStep('testing');
    try {
      const r = await rotateCredential(credential.name, Object.fromEntries(given));
      setResult(r);
      // The typed secrets are not needed any more: drop them from memory.
      setValues(Object.fromEntries(secretFields.map((f) => [f.name, ''])));
      if (r.rotated && r.credential) {
        onRotated(r.credential);
        setStep('retire');
      } else {
        setStep('failed');
      }
    } catch (err) {
      setError(toApiError(err).info);
      setStep('enter');
    }
  }

  const current = stepIndex(step);
  const rotated = result?.credential ?? null;

  return (
    <Modal
      title={`Rotate “${credential.name}”`}
      titleId="rotate-title"
      testId="rotation-wizard"
      busy={step === 'testing'}
      wide
      onClose={onClose}
    >
      <ol class="stepper" aria-label="Rotation steps">
        {STEPS.map((s, i) => (
          <li
            key={s.id}
            class={i < current ? 'step step-done' : i === current ? 'step step-current' : 'step'}
            aria-current={i === current ? 'step' : undefined}
            data-testid={`wizard-step-${s.id}`}
          >
            <span class="step-number" aria-hidden="true">
              {i < current ? '✓' : i + 1}
            </span>
            {s.label}
          </li>
        ))}
      </ol>

      {(step === 'enter' || step === 'testing') && (
        <form
          class="wizard-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void run();
          }}
          data-testid="wizard-enter"
        >
          <p>
            Make a new secret in the {credential.providerLabel} portal and paste it here. Keep the old one
            active until Tillkey has tested the new one: nothing changes unless the test passes.
          </p>
          {demo && (
            <div class="portal-steps" data-testid="wizard-demo-portal">
              <p class="portal-title">Demo vault: the portal is simulated</p>
              <p>
                {demoMade
                  ? 'The simulated portal made a new secret and pasted it below (masked). Now test it.'
                  : 'There is no real portal here. Let the simulator make a new secret, as the provider’s portal would.'}
              </p>
              {!demoMade && (
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  data-testid="wizard-demo-secret"
                  onClick={() => void makeDemoSecret()}
                >
                  Make a new secret in the simulated portal
                </button>
              )}
            </div>
          )}
          {secretFields.map((f) => (
            <div class="field" key={f.name}>
              <label class="field-label" for={`rotate-${f.name}`}>
                New {f.label.toLowerCase()} <span class="secret-badge">secret</span>
              </label>
              <SecretInput
                id={`rotate-${f.name}`}
                name={f.name}
                label={`new ${f.label}`}
                value={values[f.name] ?? ''}
                required={secretFields.length === 1}
                maxLength={f.maxLen ?? undefined}
                describedBy={`rotate-${f.name}-help`}
                invalid={!!problem}
                testPrefix="rotate"
                onInput={(v) => {
                  setValues((old) => ({ ...old, [f.name]: v }));
                  setProblem(null);
                }}
              />
              <p class="field-help" id={`rotate-${f.name}-help`}>
                <InlineCode text={f.help} />
                {secretFields.length > 1 && ' Leave empty to keep the current value.'}
              </p>
            </div>
          ))}
          {problem && (
            <p class="field-missing" role="alert" data-testid="wizard-problem">
              {problem}
            </p>
          )}
          {error && (
            <ErrorNotice error={error} testId="wizard-error" title="The rotation did not start" onDismiss={() => setError(null)} />
          )}
          <div class="form-actions">
            <button type="button" class="btn btn-secondary" disabled={step === 'testing'} onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="btn btn-primary" disabled={step === 'testing'} data-testid="wizard-test">
              {step === 'testing' ? 'Testing the new secret…' : 'Test and swap'}
            </button>
          </div>
          {step === 'testing' && (
            <p class="wizard-progress" role="status" data-testid="wizard-testing">
              Testing the new secret against {credential.providerLabel}. The old one stays in use meanwhile.
            </p>
          )}
        </form>
      )}

      {step === 'failed' && result && (
        <div class="wizard-result" data-testid="wizard-failed">
          <div class="notice notice-error" role="alert">
            <div class="notice-body">
              <p class="notice-title">The new secret failed its test</p>
              <p class="notice-message">
                Nothing was changed: “{credential.name}” still uses its old secret, which keeps working.
                Check the new value (or the portal) and try again.
              </p>
            </div>
          </div>
          <TestReportView report={result.report} testId="wizard-report" />
          <div class="form-actions">
            <button type="button" class="btn btn-secondary" data-testid="wizard-close-failed" onClick={onClose}>
              Close
            </button>
            <button
              type="button"
              class="btn btn-primary"
              data-testid="wizard-retry"
              onClick={() => {
                setResult(null);
                setStep('enter');
              }}
            >
              Try another secret
            </button>
          </div>
        </div>
      )}

      {step === 'retire' && result && (
        <div class="wizard-result" data-testid="wizard-retire">
          <p class="wizard-ok" role="status" data-testid="wizard-swapped">
            <span aria-hidden="true">✓</span> The new secret passed its test and is now in use.
          </p>
          <details class="wizard-details">
            <summary>Test of the new secret</summary>
            <TestReportView report={result.report} testId="wizard-report" />
          </details>
          <h3 class="wizard-subtitle">Retire the old secret</h3>
          <p data-testid="wizard-old-token" data-status={result.oldToken ?? ''}>
            {result.oldToken ? OLD_TOKEN_TEXT[result.oldToken] : ''}
          </p>
          {result.oldTokenError && (
            <ErrorNotice error={{ ...result.oldTokenError, field: null }} testId="wizard-revoke-error" title="Revocation refused" />
          )}
          {result.retireOld && (
            <div class="portal-steps" data-testid="wizard-portal-steps">
              <p class="portal-title">In the {credential.providerLabel} portal:</p>
              <p>
                <InlineCode text={result.retireOld} />
              </p>
            </div>
          )}
          <label class="checkbox">
            <input
              type="checkbox"
              checked={confirmed}
              data-testid="wizard-confirm"
              onChange={(e) => setConfirmed(e.currentTarget.checked)}
            />
            <span>I have revoked or deleted the old secret in the portal.</span>
          </label>
          <div class="form-actions">
            <button
              type="button"
              class="btn btn-primary"
              disabled={!confirmed}
              data-testid="wizard-done"
              onClick={() => setStep('done')}
            >
              Done
            </button>
          </div>
        </div>
      )}

      {step === 'done' && rotated && (
        <div class="wizard-result" data-testid="wizard-done-step">
          <p class="wizard-ok" role="status">
            <span aria-hidden="true">✓</span> “{rotated.name}” was rotated on {formatDate(rotated.rotatedAt)}.
            The next rotation is due {formatDate(rotated.rotation.dueAt)}.
          </p>
          <div class="form-actions">
            <button type="button" class="btn btn-primary" data-testid="wizard-finish" onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
