# Import by the instance identifier. Nothing is changed by the import; the next plan shows:
# - the password, which RDS never returns: `master_password` is planned as an in-place update
#   that sets it; with `master_password_wo`, `master_password_wo_version` is planned from null,
#   an update that sends the write-only password;
# - for an instance this resource made, nothing else: its tags give back `source_instance`
#   and `snapshot_type` (or `snapshot_identifier`), `reset_triggers` and `bug`, and the
#   restored snapshot (`restored_snapshot_id`). `skip_final_snapshot` and `timeouts` cannot be
#   read back: a configured `skip_final_snapshot = true` is an in-place update of the state only;
# - for an instance made another way (no `treeherder:*` tags), `source_instance` or
#   `snapshot_identifier` going from null to the configured value, which forces a replacement:
#   RDS does not record which snapshot an instance was restored from. Leave both unset (as
#   -generate-config-out writes them) to adopt it with no change; it then cannot be replaced.
terraform import treeherder_rds_snapshot_instance.bug1469837 treeherder-dev-bug1469837
