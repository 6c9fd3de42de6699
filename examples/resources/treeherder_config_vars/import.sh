# Import by "<app>:<keys of vars>[:<keys of sensitive_vars>]" (keys separated by commas);
# the resource then manages exactly these keys. A `timeouts` block cannot be read back: when
# configured, the next plan adds it to the state only.
terraform import treeherder_config_vars.stage treeherder-stage:LOG_LEVEL,NEW_RELIC_APP_NAME:PULSE_AUTH
