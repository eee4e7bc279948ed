import type { CredentialSummary } from '../../bindings/CredentialSummary';
import type { FieldSchema } from '../../bindings/FieldSchema';
import type { IpcError } from '../../bindings/IpcError';
import { ErrorNotice } from '../ErrorNotice';
import { InlineCode } from '../InlineCode';
import { SecretInput } from '../SecretInput';

interface Props {
  credential: CredentialSummary;
  /** The provider's secret fields: one input each. */
  secretFields: FieldSchema[];
  values: Record<string, string>;
  onInput: (field: string, value: string) => void;
  /** Fields issued anew with the secret (myPOS's client ID): one text input each. */
  identityFields: FieldSchema[];
  /** Their typed values (prefilled with the current ones). */
  identity: Record<string, string>;
  onIdentityInput: (field: string, value: string) => void;
  /** What is wrong with the typed values, shown under the inputs. */
  problem: string | null;
  error: IpcError | null;
  onDismissError: () => void;
  /** Whether the demo vault is active (its simulated portal can make new secrets). */
  demo: boolean;
  /** The simulated portal already made a new secret. */
  demoMade: boolean;
  onMakeDemoSecret: () => void;
  /** The new secret is being tested. */
  testing: boolean;
  onTest: () => void;
  onClose: () => void;
}

/** The wizard's first step: the new secret values (or the simulated portal's), then test. */
export function EnterStep(p: Props) {
  const { credential, secretFields, identityFields, values, identity, problem, error, testing } = p;
  const newSet = identityFields.length > 0;
  const identityNames = identityFields.map((f) => f.label).join(', ');
  return (
    <form
      class="wizard-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        p.onTest();
      }}
      data-testid="wizard-enter"
    >
      {newSet ? (
        <p data-testid="wizard-new-set-intro">
          {credential.providerLabel} issues a new set to rotate: generate one in its portal and enter the new{' '}
          {identityNames} with the new secret. Keep the old set until Tillkey has tested the new one and revoked
          the old token with the old {identityNames}: nothing changes unless the test passes.
        </p>
      ) : (
        <p>
          Make a new secret in the {credential.providerLabel} portal and paste it here. Keep the old one
          active until Tillkey has tested the new one: nothing changes unless the test passes.
        </p>
      )}
      {p.demo && (
        <div class="portal-steps" data-testid="wizard-demo-portal">
          <p class="portal-title">Demo vault: the portal is simulated</p>
          <p>
            {p.demoMade
              ? newSet
                ? `The simulated portal issued a new set and pasted it below (the ${identityNames} in clear, the secret masked). Now test it.`
                : 'The simulated portal made a new secret and pasted it below (masked). Now test it.'
              : newSet
                ? 'There is no real portal here. Let the simulator issue a new set, as the provider’s portal would.'
                : 'There is no real portal here. Let the simulator make a new secret, as the provider’s portal would.'}
          </p>
          {!p.demoMade && (
            <button
              type="button"
              class="btn btn-secondary btn-small"
              data-testid="wizard-demo-secret"
              onClick={p.onMakeDemoSecret}
            >
              {newSet ? 'Issue a new set in the simulated portal' : 'Make a new secret in the simulated portal'}
            </button>
          )}
        </div>
      )}
      {identityFields.map((f) => {
        const now = credential.fields[f.name] ?? '';
        const changed = (identity[f.name] ?? '').trim() !== now;
        return (
          <div class="field" key={f.name}>
            <label class="field-label" for={`rotate-${f.name}`}>
              {f.label} <span class="secret-badge">new set</span>
            </label>
            <input
              id={`rotate-${f.name}`}
              name={f.name}
              class="input"
              type="text"
              autoComplete="off"
              spellcheck={false}
              value={identity[f.name] ?? ''}
              maxLength={f.maxLen ?? undefined}
              aria-describedby={`rotate-${f.name}-help`}
              aria-invalid={!!problem}
              data-testid={`rotate-${f.name}`}
              data-changed={changed ? 'true' : 'false'}
              onInput={(e) => p.onIdentityInput(f.name, e.currentTarget.value)}
            />
            <p class="field-help" id={`rotate-${f.name}-help`}>
              {changed
                ? `A new set: replaces ${now} together with the new secret.`
                : `Now ${now}. Enter the new ${f.label.toLowerCase()} if the portal issued a new set; leave it to keep the current one.`}
            </p>
          </div>
        );
      })}
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
            onInput={(v) => p.onInput(f.name, v)}
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
        <ErrorNotice error={error} testId="wizard-error" title="The rotation did not start" onDismiss={p.onDismissError} />
      )}
      <div class="form-actions">
        <button type="button" class="btn btn-secondary" disabled={testing} onClick={p.onClose}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" disabled={testing} data-testid="wizard-test">
          {testing ? 'Testing the new secret…' : 'Test and swap'}
        </button>
      </div>
      {testing && (
        <p class="wizard-progress" role="status" data-testid="wizard-testing">
          Testing the new secret against {credential.providerLabel}. The old one stays in use meanwhile.
        </p>
      )}
    </form>
  );
}
