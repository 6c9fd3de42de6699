# A new password at every run, never stored: hand it to a write-only attribute and bump the
# version companion to rotate.
ephemeral "treeherder_password" "redash" {
  length = 40
}
