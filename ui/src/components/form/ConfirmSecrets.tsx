import type { FieldSchema } from '../../bindings/FieldSchema';
import type { Values } from '../../form';
import { SecretInput } from '../SecretInput';

interface Props {
  /** The credential's stored secret fields, to type again. */
  fields: FieldSchema[];
  /** The changed fields that say where the secrets go. */
  moved: FieldSchema[];
  /** What was typed so far, by field name. */
  values: Values;
  /** Rust refused the last try: the secrets were missing or did not match. */
  refused: boolean;
  onInput: (field: string, value: string) => void;
}

/**
 * The edit form's request to type the current secrets again, shown when the merchant
 * changed where Tillkey sends them (a URL field or the auth host).
 */
export function ConfirmSecrets({ fields, moved, values, refused, onInput }: Props) {
  return (
    <div class="confirm-secrets" role="group" aria-labelledby="confirm-secrets-title" data-testid="confirm-secrets">
      <p class="field-label" id="confirm-secrets-title">
        Confirm the new address
      </p>
      <p class="form-hint" id="confirm-secrets-help">
        You changed where Tillkey sends this credential’s {fields.length === 1 ? 'secret' : 'secrets'}
        {moved.length > 0 ? ` (${moved.map((f) => f.label).join(', ')})` : ''}. Tillkey sends{' '}
        {fields.length === 1 ? 'it' : 'them'} there on the next test or copy, so type the current{' '}
        {fields.map((f) => f.label).join(' and ')} again to confirm. If you did not make this change,
        press Cancel.
      </p>
      <div class="form-grid">
        {fields.map((field) => {
          const id = `cred-confirm-${field.name}`;
          const label = `Current ${field.label} (to confirm the new address)`;
          const problem =
            refused && (values[field.name] ?? '') === ''
              ? `Type the current ${field.label}: it was missing or did not match.`
              : null;
          return (
            <div class="field field-wide" key={field.name}>
              <label for={id} class="field-label">
                {label}
                <span class="required-mark" aria-hidden="true">
                  {' '}
                  *
                </span>
                <span class="secret-badge">secret</span>
              </label>
              <SecretInput
                id={id}
                name={field.name}
                label={label}
                value={values[field.name] ?? ''}
                required
                maxLength={field.maxLen ?? undefined}
                describedBy={`${id}-help confirm-secrets-help`}
                invalid={problem !== null}
                testPrefix="confirm"
                onInput={(v) => onInput(field.name, v)}
              />
              <p id={`${id}-help`} class="field-help">
                {problem ? (
                  <span class="field-missing" data-testid={`problem-confirm-${field.name}`}>
                    {problem}
                  </span>
                ) : (
                  'Only compared with the one in the keyring; it is not stored again or shown.'
                )}
              </p>
            </div>
          );
        })}
      </div>
    </div>
  );
}
