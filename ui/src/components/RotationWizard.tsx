import { useState } from 'preact/hooks';
import { demoNewSecret, rotateCredential, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { IpcError } from '../bindings/IpcError';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import type { RotationResult } from '../bindings/RotationResult';
import { fieldProblem } from '../validate';
import { Modal } from './Modal';
import { EnterStep } from './wizard/EnterStep';
import { DoneStep, FailedStep, RetireStep } from './wizard/ResultSteps';
import { Stepper, type Step } from './wizard/Stepper';

interface Props {
  credential: CredentialSummary;
  schema: ProviderSchema | undefined;
  /** Whether the demo vault is active (its simulated portal can make new secrets). */
  demo: boolean;
  /** Called when the secret was swapped in (the wizard stays open for the last step). */
  onRotated: (updated: CredentialSummary) => void;
  onClose: () => void;
}

/**
 * The rotation wizard, following the Paysera POS procedure: enter the new secret, test it,
 * swap it in (only if the test passed), then retire the old one — revoked by Tillkey where
 * the provider has an endpoint, otherwise in the portal, which the merchant confirms.
 * A failure at any step leaves the old credential working and untouched.
 */
export function RotationWizard({ credential, schema, demo, onRotated, onClose }: Props) {
  const secretFields = (schema?.fields ?? []).filter((f) => f.secret);
  const empty = () => Object.fromEntries(secretFields.map((f) => [f.name, '']));
  const [values, setValues] = useState<Record<string, string>>(empty);
  const [step, setStep] = useState<Step>('enter');
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [result, setResult] = useState<RotationResult | null>(null);
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

  /** Why the typed values cannot be tried, or null. */
  function problemOf(given: [string, string][]): string | null {
    if (given.length === 0) {
      return secretFields.length === 1 && secretFields[0]
        ? `Enter the new ${secretFields[0].label.toLowerCase()}.`
        : 'Enter at least one new secret value.';
    }
    for (const [k, v] of given) {
      const f = secretFields.find((s) => s.name === k);
      const p = f ? fieldProblem(f, v, false) : null;
      if (p) return p;
    }
    return null;
  }

  async function run() {
    const given = Object.entries(values).filter(([, v]) => v.trim() !== '');
    const p = problemOf(given);
    if (p) {
      setProblem(p);
      if (given.length === 0) document.getElementById(`rotate-${secretFields[0]?.name}`)?.focus();
      return;
    }
    setProblem(null);
    setError(null);
    setStep('testing');
    try {
      const r = await rotateCredential(credential.name, Object.fromEntries(given));
      setResult(r);
      // The typed secrets are not needed any more: drop them from memory.
      setValues(empty());
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
      <Stepper step={step} />

      {(step === 'enter' || step === 'testing') && (
        <EnterStep
          credential={credential}
          secretFields={secretFields}
          values={values}
          onInput={(field, v) => {
            setValues((old) => ({ ...old, [field]: v }));
            setProblem(null);
          }}
          problem={problem}
          error={error}
          onDismissError={() => setError(null)}
          demo={demo}
          demoMade={demoMade}
          onMakeDemoSecret={() => void makeDemoSecret()}
          testing={step === 'testing'}
          onTest={() => void run()}
          onClose={onClose}
        />
      )}

      {step === 'failed' && result && (
        <FailedStep
          credential={credential}
          result={result}
          onClose={onClose}
          onRetry={() => {
            setResult(null);
            setStep('enter');
          }}
        />
      )}

      {step === 'retire' && result && (
        <RetireStep credential={credential} result={result} onDone={() => setStep('done')} />
      )}

      {step === 'done' && rotated && <DoneStep rotated={rotated} onClose={onClose} />}
    </Modal>
  );
}
