# Import an app's Deploy tab by the app's name or UUID. `on_destroy` is not stored by Heroku:
# it is "disable" after an import.
terraform import treeherder_app_github.prod treeherder-prod
