import type { IpcError } from '../bindings/IpcError';
import { InlineCode } from './InlineCode';

interface Props {
  error: IpcError;
  /** Prefix for the data-testid of the notice and its parts. */
  testId: string;
  title?: string;
  onDismiss?: () => void;
  onRetry?: () => void;
}

/** An error from Rust: plain-language message, what to do about it, and the error code. */
export function ErrorNotice({ error, testId, title, onDismiss, onRetry }: Props) {
  return (
    <div class="notice notice-error" role="alert" data-testid={testId}>
      <div class="notice-body">
        <p class="notice-title">
          {title ?? 'Something needs your attention'}
          <code class="notice-code" data-testid={`${testId}-code`}>
            {error.code}
          </code>
        </p>
        <p class="notice-message" data-testid={`${testId}-message`}>
          <InlineCode text={error.message} />
        </p>
        {error.hint && (
          <p class="notice-hint" data-testid={`${testId}-hint`}>
            <InlineCode text={error.hint} />
          </p>
        )}
      </div>
      {(onRetry || onDismiss) && (
        <div class="notice-actions">
          {onRetry && (
            <button type="button" class="btn btn-secondary btn-small" onClick={onRetry}>
              Try again
            </button>
          )}
          {onDismiss && (
            <button
              type="button"
              class="btn btn-ghost btn-small"
              aria-label="Dismiss error"
              onClick={onDismiss}
            >
              Dismiss
            </button>
          )}
        </div>
      )}
    </div>
  );
}
