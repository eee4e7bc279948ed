// The credential form's own inputs, beside the schema's fields: name, environment and (when
// editing) rotation period.

import type { Environment } from '../../bindings/Environment';
import type { ProviderSchema } from '../../bindings/ProviderSchema';
import { environmentLabel } from '../../format';
import { NAME_MAX } from '../../validate';

interface NameProps {
  value: string;
  problem: string | null;
  onInput: (value: string) => void;
  onBlur: () => void;
}

export function NameField({ value, problem, onInput, onBlur }: NameProps) {
  return (
    <div class="field">
      <label for="cred-name" class="field-label">
        Name <span class="required-mark" aria-hidden="true">*</span>
      </label>
      <input
        id="cred-name"
        name="name"
        class="input"
        type="text"
        value={value}
        required
        maxLength={NAME_MAX}
        autoComplete="off"
        spellcheck={false}
        placeholder="e.g. main-shop"
        aria-describedby="cred-name-help"
        aria-invalid={problem ? true : undefined}
        data-testid="name-input"
        onInput={(e) => onInput(e.currentTarget.value)}
        onBlur={onBlur}
      />
      <p id="cred-name-help" class="field-help">
        {problem ? (
          <span class="field-missing" data-testid="problem-name">
            {problem}
          </span>
        ) : (
          'How you refer to it here and in the CLI: letters, digits, dot, underscore, dash.'
        )}
      </p>
    </div>
  );
}

interface EnvironmentProps {
  schema: ProviderSchema;
  value: Environment | undefined;
  onChange: (env: Environment) => void;
}

export function EnvironmentField({ schema, value, onChange }: EnvironmentProps) {
  return (
    <div class="field">
      <label for="cred-environment" class="field-label">
        Environment
      </label>
      <select
        id="cred-environment"
        name="environment"
        class="input select"
        value={value}
        disabled={schema.environments.length === 1}
        aria-describedby="cred-environment-help"
        data-testid="environment-select"
        onChange={(e) => onChange(e.currentTarget.value as Environment)}
      >
        {schema.environments.map((env) => (
          <option key={env} value={env}>
            {environmentLabel(env)}
            {schema.kind === 'paysera-pos' && env === 'sandbox' ? ' (demo)' : ''}
          </option>
        ))}
      </select>
      <p id="cred-environment-help" class="field-help">
        {schema.environments.length === 1
          ? `${schema.label} documents only this environment.`
          : 'Which of the provider’s environments these credentials belong to; it sets the default URLs.'}
      </p>
    </div>
  );
}

interface PeriodProps {
  value: string;
  problem: string | null;
  onInput: (value: string) => void;
  onBlur: () => void;
}

export function PeriodField({ value, problem, onInput, onBlur }: PeriodProps) {
  return (
    <div class="field">
      <label for="cred-period" class="field-label">
        Rotation period (days)
      </label>
      <input
        id="cred-period"
        class="input"
        type="number"
        min={1}
        max={3650}
        value={value}
        aria-describedby="cred-period-help"
        aria-invalid={problem ? true : undefined}
        data-testid="period-input"
        onInput={(e) => onInput(e.currentTarget.value)}
        onBlur={onBlur}
      />
      <p id="cred-period-help" class="field-help">
        {problem ? (
          <span class="field-missing" data-testid="problem-period">
            {problem}
          </span>
        ) : (
          'How often to replace its secret. The providers recommend 90 days.'
        )}
      </p>
    </div>
  );
}
