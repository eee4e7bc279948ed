# Tillkey team vault: rotating admins.
#
# Everything staff can do, plus add, edit, rotate and remove credentials. Every write is a
# KV v2 check-and-set, so two admins never overwrite each other's change. Rotation and
# removal destroy superseded secret revisions (DELETE on metadata/, all versions) unless
# the connection keeps some (--retain N: soft delete, recoverable with `bao kv undelete`).
#
# Paths assume the defaults `--mount secret --prefix tillkey`; replace `secret/` and
# `tillkey` if you connect with others. Load with:
#   bao policy write tillkey-admin tillkey-admin.hcl      (or: vault policy write ...)

# The vault document, secret values and shared tokens: read and write (check-and-set).
path "secret/data/tillkey/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Version state (to tell a swept entry from a live one) and destroying every version of
# a superseded secret.
path "secret/metadata/tillkey/*" {
  capabilities = ["read", "delete"]
}

path "sys/capabilities-self" {
  capabilities = ["update"]
}
