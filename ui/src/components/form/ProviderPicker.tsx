import type { ProviderSchema } from '../../bindings/ProviderSchema';
import { InlineCode } from '../InlineCode';

interface Props {
  providers: ProviderSchema[];
  /** The picked provider kind ('' before one is picked). */
  kind: string;
  onPick: (kind: string) => void;
}

/** The add form's provider picker: each provider with what it is and which flow it uses. */
export function ProviderPicker({ providers, kind, onPick }: Props) {
  return (
    <fieldset class="picker">
      <legend class="field-label">
        Provider <span class="required-mark" aria-hidden="true">*</span>
      </legend>
      <div class="picker-grid" role="radiogroup" aria-required="true">
        {providers.map((p) => (
          <label
            key={p.kind}
            class={p.kind === kind ? 'picker-option picker-option-selected' : 'picker-option'}
            data-testid={`provider-option-${p.kind}`}
          >
            <input
              type="radio"
              name="provider"
              value={p.kind}
              checked={p.kind === kind}
              aria-describedby={`provider-desc-${p.kind}`}
              onChange={() => onPick(p.kind)}
            />
            <span class="picker-text">
              <span class="picker-name">{p.label}</span>
              <span class="picker-desc" id={`provider-desc-${p.kind}`}>
                <InlineCode text={p.description} />
                <span class="picker-flow">{p.flow}</span>
              </span>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
