# Import the formation of a process type by "<app name or UUID>:<process type>". For a
# process that runs gunicorn, web_concurrency is read from the app's WEB_CONCURRENCY.
# `on_destroy` cannot be read back: a configured "scale_to_zero" plans a state-only update.
terraform import treeherder_formation.web treeherder-prod:web
