//! The model of `treeherder_database_password`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::types::Timeouts;
use tfplugin::{Field, WriteOnly};

use crate::resources::password_arguments::{PasswordArguments, PasswordRules};
use crate::resources::readonly_user::AccountPassword;

/// The MySQL password of the account in a Heroku app's `DATABASE_URL`, kept in step with that
/// URL. With `password` or `password_wo` it **rotates**: the password is set in MySQL (over
/// TLS), proven to log in, and only then written into `DATABASE_URL`. With neither it
/// **syncs**: MySQL is made to accept the password `DATABASE_URL` already holds.
// No Debug: the model holds the password.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
#[tf(validator = PasswordArguments::rules(
    "Or set neither, to make MySQL accept the password DATABASE_URL holds."
))]
pub struct DatabasePasswordModel {
    /// The Heroku app whose `DATABASE_URL` holds the account, by name (`treeherder-stage`) or
    /// UUID. Also the import id. Changing it replaces the resource (which only forgets the old
    /// app).
    #[tf(requires_replace)]
    pub app: Field<crate::clients::heroku::AppIdentity>,
    /// The MySQL user of `DATABASE_URL` (e.g. `th_admin`). Optional: by default whatever user
    /// the URL holds. When set, a URL holding another user is an error at plan time, so a
    /// configuration cannot change the wrong account's password.
    #[serde(default)]
    #[tf(computed, optional)]
    pub username: Field<String>,
    /// `host:port` of the server `DATABASE_URL` points at, when it is not the provider's
    /// `mysql.endpoint`. Without it, a `DATABASE_URL` pointing anywhere else than
    /// `mysql.endpoint` is an error at plan time (so a stage configuration cannot rewrite
    /// prod's account). The provider's TLS settings and `mysql.tunnels` apply to this host too;
    /// its admin login does not (it is only used for `mysql.endpoint`).
    #[serde(default)]
    pub endpoint: Field<String>,
    /// The new password (Terraform < 1.11): 30 to 256 characters of `A-Z a-z 0-9 - _ . ~ ! $
    /// & ( ) * + , ; =` (MySQL refuses longer ones; characters such as `%`, `@`, `:`, `/`, `?` and `#` break Django's
    /// `DATABASE_URL` parsing). Stored in state as a sensitive value. Changing it rotates the
    /// password. Set at most one of `password` and `password_wo`; neither means sync.
    #[serde(default)]
    pub password: Field<AccountPassword>,
    /// The new password, write-only (Terraform ≥ 1.11): never stored in state or plan files,
    /// e.g. `ephemeral.treeherder_password.x.result`. Same rules as `password`. Only sent when
    /// the resource is created, `password_wo_version` changes or the account is out of sync.
    #[serde(default)]
    #[tf(validator = PasswordRules)]
    pub password_wo: Field<WriteOnly>,
    /// Version of `password_wo`, required with it: changing it rotates the password.
    #[serde(default)]
    pub password_wo_version: Field<u64>,
    /// The app name (as configured), also the import id.
    #[serde(default)]
    #[tf(computed, use_state_for_unknown)]
    pub id: Field<String>,
    /// Host of the MySQL server in `DATABASE_URL`.
    #[serde(default)]
    #[tf(computed)]
    pub host: Field<String>,
    /// When this resource last set the password in MySQL (RFC 3339, UTC); null when it never
    /// had to.
    #[serde(default)]
    #[tf(computed)]
    pub rotated_at: Field<String>,
    /// Whether, as last read, the password in `DATABASE_URL` logs in to its account over TLS
    /// and (when this resource set it) is the one it set. `false` shows as a planned change to
    /// `true`: the apply makes it so.
    #[serde(default)]
    #[tf(computed)]
    pub in_sync: Field<bool>,
    /// How long create and update wait for the release of the `DATABASE_URL` change (default
    /// 20m).
    #[tf(block = single)]
    pub timeouts: Option<Timeouts>,
}
