# Import the formation of a process type by "<app name or UUID>:<process type>".
terraform import treeherder_formation.web treeherder-prod:web
