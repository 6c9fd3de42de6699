# Alice may view, deploy and operate the production app (a team app: permissions required).
resource "treeherder_app_collaborator" "alice" {
  app         = "treeherder-prod"             # name or UUID
  email       = "alice@example.com"           # another e-mail replaces the collaborator
  permissions = ["view", "deploy", "operate"] # view | deploy | operate | manage; view required
  silent      = true                          # no invitation e-mail (default false)
}

# The same person on staging, with every permission.
resource "treeherder_app_collaborator" "alice_stage" {
  app         = "treeherder-stage"
  email       = "alice@example.com"
  permissions = ["view", "deploy", "operate", "manage"]
}
