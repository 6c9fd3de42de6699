# Import a collaborator by "<app name or UUID>:<e-mail>". Heroku does not record `silent`:
# it is false after an import, so a configured `silent = true` plans a state-only update.
terraform import treeherder_app_collaborator.alice treeherder-prod:alice@example.com
