import { useEffect, useRef, useState } from 'preact/hooks';
import { connectTeamVault, toApiError } from '../../api';
import type { IpcError } from '../../bindings/IpcError';
import type { TeamAuth } from '../../bindings/TeamAuth';
import type { VaultStatus } from '../../bindings/VaultStatus';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';
import { SecretInput } from '../SecretInput';
import { TeamField } from './TeamField';

interface Props {
  /** Called with the new vault's status once it is connected. */
  onConnected: (status: VaultStatus) => void;
  onClose: () => void;
}

/** Fields of the "Advanced" fold: an error about one of them opens it. */
const ADVANCED = ['mount', 'prefix', 'share_tokens', 'retain'];

/** The error's field as the dialog names it (the secret is one input for both methods). */
function fieldOf(error: IpcError | null): string | null {
  if (!error?.field) return null;
  return error.field === 'token' || error.field === 'secret_id' ? 'secret' : error.field;
}

/** Empty means "not given", as a flag left off the command line. */
const given = (v: string) => (v.trim() === '' ? null : v);

/**
 * "Connect team vault": what `tillkey vault connect` asks for, checked by the same Rust code.
 * The engine token or AppRole secret_id is typed in a masked field and goes to Rust only.
 */
export function ConnectDialog({ onConnected, onClose }: Props) {
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [auth, setAuth] = useState<TeamAuth>('token');
  const [roleId, setRoleId] = useState('');
  const [secret, setSecret] = useState('');
  const [caFile, setCaFile] = useState('');
  const [namespace, setNamespace] = useState('');
  const [mount, setMount] = useState('secret');
  const [prefix, setPrefix] = useState('tillkey');
  const [shareTokens, setShareTokens] = useState(false);
  const [retain, setRetain] = useState('0');
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  const field = fieldOf(error);
  const problem = (f: string) => (field === f ? (error?.message ?? null) : null);
  const retainProblem = /^\d{1,9}$/.test(retain.trim()) ? null : 'Enter a whole number of revisions (0: keep none).';
  const secretLabel = auth === 'token' ? 'Engine token' : 'AppRole secret_id';

  // Start at the first field, not at the dialog's Close button.
  useEffect(() => {
    document.getElementById('team-name')?.focus();
  }, []);

  useEffect(() => {
    if (!error) return;
    if (field && ADVANCED.includes(field)) setAdvancedOpen(true);
    errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error, field]);

  async function connect(e: Event) {
    e.preventDefault();
    if (retainProblem) {
      setAdvancedOpen(true);
      return;
    }
    setError(null);
    setConnecting(true);
    try {
      const status = await connectTeamVault(
        {
          name,
          address,
          mount,
          prefix,
          auth,
          roleId: auth === 'approle' ? roleId : null,
          namespace: given(namespace),
          caFile: given(caFile),
          retain: Number(retain.trim()),
          shareTokens,
        },
        secret,
      );
      setSecret('');
      onConnected(status);
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setConnecting(false);
    }
  }

  return (
    <Modal title="Connect a team vault" titleId="team-connect-title" testId="team-connect-dialog" onClose={onClose} busy={connecting} wide>
      <form class="wizard-form" noValidate onSubmit={connect} data-testid="team-connect-form">
        <p class="form-hint">
          A team vault keeps credentials in your team’s OpenBao or HashiCorp Vault (KV v2), shared by every
          machine connected to it. The same as <code>tillkey vault connect</code>: the connection is checked
          before anything is saved.
        </p>
        <div class="form-grid">
          <TeamField
            name="name"
            label="Name on this computer"
            value={name}
            required
            placeholder="e.g. shops"
            problem={problem('name')}
            help="Letters, digits, dot, underscore, dash (the CLI’s vault name)."
            onInput={setName}
          />
          <TeamField
            name="address"
            label="Address"
            type="url"
            value={address}
            required
            placeholder="https://bao.example.com:8200"
            problem={problem('address')}
            help="HTTPS; plain http only on this computer’s loopback address."
            onInput={setAddress}
          />
          <div class="field">
            <label for="team-auth" class="field-label">
              Log in with
            </label>
            <select
              id="team-auth"
              name="auth"
              class="input select"
              value={auth}
              aria-invalid={problem('auth') ? true : undefined}
              data-testid="team-auth"
              onChange={(e) => setAuth(e.currentTarget.value as TeamAuth)}
            >
              <option value="token">A token</option>
              <option value="approle">AppRole (role ID and secret ID)</option>
            </select>
          </div>
          {auth === 'approle' && (
            <TeamField
              name="role_id"
              label="Role ID"
              value={roleId}
              required
              problem={problem('role_id')}
              help="Not a secret; your vault admin gives it with the secret ID."
              onInput={setRoleId}
            />
          )}
          <div class="field field-wide">
            <label for="team-secret" class="field-label">
              {secretLabel}
              <span class="required-mark" aria-hidden="true">
                *
              </span>
              <span class="secret-badge">secret</span>
            </label>
            <SecretInput
              id="team-secret"
              name="secret"
              label={secretLabel}
              value={secret}
              required
              describedBy="team-secret-help"
              invalid={field === 'secret'}
              testPrefix="team"
              onInput={setSecret}
            />
            <p id="team-secret-help" class="field-help">
              {field === 'secret' ? (
                <span class="field-missing" data-testid="team-problem-secret">
                  {error?.message}
                </span>
              ) : (
                'Kept in this computer’s OS keyring, never shown again.'
              )}
            </p>
          </div>
          <TeamField
            name="ca_file"
            label="CA file"
            value={caFile}
            placeholder="/etc/ssl/team-ca.pem"
            problem={problem('ca_file')}
            help="Full path of a PEM file, if a private CA signs the engine’s certificate."
            onInput={setCaFile}
          />
          <TeamField
            name="namespace"
            label="Namespace"
            value={namespace}
            problem={problem('namespace')}
            help="Only if your team’s engine uses namespaces."
            onInput={setNamespace}
          />
        </div>

        <details
          class="optional-fields"
          data-testid="team-advanced"
          open={advancedOpen}
          onToggle={(e) => setAdvancedOpen((e.currentTarget as HTMLDetailsElement).open)}
        >
          <summary data-testid="team-advanced-summary">
            <span class="optional-title">Storage and sharing</span>
            <span class="optional-list">KV v2 mount · Path prefix · Old revisions · Token sharing</span>
          </summary>
          <div class="form-grid">
            <TeamField
              name="mount"
              label="KV v2 mount"
              value={mount}
              problem={problem('mount')}
              help="Default secret."
              onInput={setMount}
            />
            <TeamField
              name="prefix"
              label="Path prefix"
              value={prefix}
              problem={problem('prefix')}
              help="Default tillkey: the vault’s path under the mount."
              onInput={setPrefix}
            />
            <TeamField
              name="retain"
              label="Old secret revisions to keep"
              type="number"
              min={0}
              max={100}
              value={retain}
              problem={problem('retain') ?? retainProblem}
              help="Kept recoverable after a rotation or removal (0: none)."
              onInput={setRetain}
            />
            <div class="field">
              <span class="field-label">Access tokens</span>
              <label class="checkbox">
                <input
                  type="checkbox"
                  name="share_tokens"
                  checked={shareTokens}
                  data-testid="team-share_tokens"
                  onChange={(e) => setShareTokens(e.currentTarget.checked)}
                />
                Share them through the engine
              </label>
              <p class="field-help">Otherwise each computer keeps them in memory only.</p>
            </div>
          </div>
        </details>

        {error && (
          <div ref={errorRef}>
            <ErrorNotice error={error} testId="team-connect-error" title="Could not connect the team vault" />
          </div>
        )}
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose} disabled={connecting}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={connecting} data-testid="team-connect-submit">
            {connecting ? 'Checking the connection…' : 'Connect'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
