# Tillkey team vault: read-only staff.
#
# Lists, shows, tests and uses the team's credentials (`tillkey --vault NAME list|show|
# test|token|exec`), but cannot add, edit, rotate or remove them: those are refused with
# "permission denied by its policy" (exit 1) and nothing changes.
#
# Paths assume the defaults `--mount secret --prefix tillkey`; replace `secret/` and
# `tillkey` if you connect with others. Load with:
#   bao policy write tillkey-staff tillkey-staff.hcl      (or: vault policy write ...)

# The vault document (credential metadata, no secret values).
path "secret/data/tillkey/vault" {
  capabilities = ["read"]
}

# Secret values, one entry per credential, revision and field.
path "secret/data/tillkey/secrets/*" {
  capabilities = ["read"]
}

# Only for connections made with --share-tokens: cached access tokens shared by every
# machine, so staff machines do not each spend the provider's rate limit. Remove these two
# blocks if no one shares tokens.
path "secret/data/tillkey/tokens/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/tillkey/tokens/*" {
  capabilities = ["read", "delete"]
}

# `tillkey vault list` shows read-only / read-write from this (the default policy grants
# it too).
path "sys/capabilities-self" {
  capabilities = ["update"]
}
