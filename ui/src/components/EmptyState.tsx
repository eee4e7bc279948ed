interface EmptyVaultProps {
  /** Whether the demo vault is active (then it does not offer itself). */
  demo: boolean;
  /** The demo vault is starting. */
  opening: boolean;
  onOpenDemo: () => void;
}

/** A vault with no credentials yet: what to add, and (outside the demo) the demo vault. */
export function EmptyVault({ demo, opening, onOpenDemo }: EmptyVaultProps) {
  return (
    <div class="empty" data-testid="empty-state">
      <p class="empty-title">No credentials yet</p>
      <p>Add the API credentials of your POS or payment provider to keep them in the OS keyring.</p>
      {!demo && (
        <div class="empty-demo">
          <p>
            New to Tillkey? Open the <strong>demo vault</strong>: one credential for each provider,
            backed by simulators inside the app, so you can test, copy and rotate without any account.
            It is kept apart from your own vault.
          </p>
          <button type="button" class="btn btn-primary" disabled={opening} data-testid="open-demo" onClick={onOpenDemo}>
            {opening ? 'Starting the simulators…' : 'Open the demo vault'}
          </button>
        </div>
      )}
    </div>
  );
}

/** Search and filters leave no credential. */
export function NoMatch({ onClear }: { onClear: () => void }) {
  return (
    <div class="empty" data-testid="no-match">
      <p class="empty-title">No credential matches</p>
      <button type="button" class="btn btn-secondary btn-small" onClick={onClear}>
        Clear search and filters
      </button>
    </div>
  );
}
