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
 * Where the provider issues a new set (myPOS: client ID and secret), the new identity is
 * entered with the secret and the old token is revoked with the old one.
 * A failure at any step leaves the old credential working and untouched.
 */
export function RotationWizard({ credential, schema, demo, onRotated, onClose }: Props) {
  const secretFields = (schema?.fields ?? []).filter((f) => f.secret);
  // Fields the provider issues anew with the secret (myPOS: a new client ID), prefilled
  // with the current value: changed, they rotate with the secret as one set.
  const identityFields = (schema?.fields ?? []).filter((f) => f.rotatesWithSecret && !f.secret);
  const current = () => Object.fromEntries(identityFields.map((f) => [f.name, credential.fields[f.name] ?? '']));
  const empty = () => Object.fromEntries(secretFields.map((f) => [f.name, '']));
  const [values, setValues] = useState<Record<string, string>>(empty);
  const [identity, setIdentity] = useState<Record<string, string>>(current);
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
      setIdentity((old) => ({ ...old, ...made.identity }));
      setProblem(null);
      setDemoMade(true);
    } catch (err) {
      setError(toApiError(err).info);
    }
  }

  /** The identity fields whose typed value differs from the current one. */
  function changedIdentity(): [string, string][] {
    return identityFields
      .map((f): [string, string] => [f.name, (identity[f.name] ?? '').trim()])
      .filter(([k, v]) => v !== (credential.fields[k] ?? ''));
  }

  /** Why the typed values cannot be tried, or null. */
  function problemOf(given: [string, string][]): string | null {
    for (const f of identityFields) {
      const p = fieldProblem(f, identity[f.name] ?? '', true);
      if (p) return p;
    }
    const changed = changedIdentity();
    if (changed.length > 0 && given.length === 0) {
      const names = identityFields.filter((f) => changed.some(([k]) => k === f.name)).map((f) => f.label);
      const secrets = secretFields.map((f) => f.label.toLowerCase()).join(' and ');
      return `A new ${names.join(', ')} comes with a new ${secrets}: enter it too.`;
    }
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
      const r = await rotateCredential(credential.name, Object.fromEntries(given), Object.fromEntries(changedIdentity()));
      setResult(r);
      // The typed secrets are not needed any more: drop them from memory.
      setValues(empty());
      if (!r.rotated) setIdentity(current());
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
      <Stepper step={step} newSet={identityFields.length > 0} />

      {(step === 'enter' || step === 'testing') && (
        <EnterStep
          credential={credential}
          secretFields={secretFields}
          values={values}
          onInput={(field, v) => {
            setValues((old) => ({ ...old, [field]: v }));
            setProblem(null);
          }}
          identityFields={identityFields}
          identity={identity}
          onIdentityInput={(field, v) => {
            setIdentity((old) => ({ ...old, [field]: v }));
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
