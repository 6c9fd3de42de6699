# Import a collaborator by "<app name or UUID>:<e-mail>".
terraform import treeherder_app_collaborator.alice treeherder-prod:alice@example.com
