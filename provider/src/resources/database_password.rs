//! `treeherder_database_password`: the MySQL password of the account in an app's
//! `DATABASE_URL`, and that URL, changed together (the runbook's "Changing MySQL passwords"
//! and, without a password, its first step after a reset from a production snapshot).
//!
//! Order of a rotation: log in over TLS, set the password, prove the new one logs in over TLS,
//! and only then write `DATABASE_URL` (only its password part) and wait for the release. When
//! MySQL holds the new password but Heroku refused the write, the error says so, private state
//! records it, and the next apply finds that the password already logs in and only writes
//! `DATABASE_URL`. With `password_wo` nothing about the password is kept but a salted hash.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, timeout_or, Timeouts};
use tfplugin::{attr, Diagnostic, Diagnostics, Field, WriteOnly};

use crate::clients::heroku::{ConfigChange, HerokuClient, ReleaseWaitError};
use crate::clients::mysql::config::parse_endpoint;
use crate::clients::mysql::{
    Account, AccountSession, MysqlConfig, MysqlError, Password, SecretString, TlsMode,
};
use crate::clients::timestamp::utc_seconds;
use crate::clients::Clients;
use crate::ephemeral_resources::database_url::{DatabaseUrl, DATABASE_URL};
use crate::resources::password_arguments::{write_only_password, PasswordArguments};
use crate::resources::readonly_user::AccountPassword;

/// How long an apply waits for the release its `DATABASE_URL` change makes, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Private-state key: a rotation whose MySQL change was made and whose `DATABASE_URL` write
/// failed ([`Pending`]).
const PENDING: &str = "pending_database_url";
/// Private-state key: the salted hash of the password this resource last set ([`Digest`]).
const LAST_SET: &str = "last_set_password";

/// The MySQL password of the account in a Heroku app's `DATABASE_URL`, kept in step with that
/// URL. With `password` or `password_wo` it **rotates**: the password is set in MySQL (over
/// TLS), proven to log in, and only then written into `DATABASE_URL`. With neither it
/// **syncs**: MySQL is made to accept the password `DATABASE_URL` already holds.
// No Debug: the model holds the password.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatabasePasswordModel {
    /// The Heroku app whose `DATABASE_URL` holds the account, by name (`treeherder-stage`) or
    /// UUID. Also the import id. Changing it replaces the resource (which only forgets the old
    /// app).
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    pub app: Field<crate::clients::heroku::AppIdentity>,
    /// The MySQL user of `DATABASE_URL` (e.g. `th_admin`). Optional: by default whatever user
    /// the URL holds. When set, a URL holding another user is an error at plan time, so a
    /// configuration cannot change the wrong account's password.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true, "optional": true }))]
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
    pub password_wo: Field<WriteOnly>,
    /// Version of `password_wo`, required with it: changing it rotates the password.
    #[serde(default)]
    pub password_wo_version: Field<u64>,
    /// The app name (as configured), also the import id.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub id: Field<String>,
    /// Host of the MySQL server in `DATABASE_URL`.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub host: Field<String>,
    /// When this resource last set the password in MySQL (RFC 3339, UTC); null when it never
    /// had to.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub rotated_at: Field<String>,
    /// Whether, as last read, the password in `DATABASE_URL` logs in to its account over TLS
    /// and (when this resource set it) is the one it set. `false` shows as a planned change to
    /// `true`: the apply makes it so.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub in_sync: Field<bool>,
    /// How long create and update wait for the release of the `DATABASE_URL` change (default
    /// 20m).
    #[schemars(extend("x-terraform" = { "block": "single" }))]
    pub timeouts: Option<Timeouts>,
}

/// The `treeherder_database_password` resource.
pub struct DatabasePassword;

/// A rotation left half done: MySQL holds the password whose hash this is, `DATABASE_URL`
/// does not.
#[derive(Serialize, Deserialize)]
struct Pending {
    digest: PasswordDigest,
    /// The Heroku error, for the plan's warning.
    reason: String,
}

/// A salted SHA-256 of a password, to recognise it later without keeping it.
#[derive(Clone, Serialize, Deserialize)]
struct PasswordDigest {
    salt: String,
    sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PasswordDigest {
    fn of(password: &str) -> PasswordDigest {
        let mut salt = [0u8; 16];
        // Without randomness a fixed salt still hides the password; it only loses the
        // protection against precomputed tables.
        if getrandom::fill(&mut salt).is_err() {
            salt = *b"treeherder-salt!";
        }
        let salt = hex(&salt);
        let sha256 = Self::hash(&salt, password);
        PasswordDigest { salt, sha256 }
    }

    fn hash(salt: &str, password: &str) -> String {
        hex(&Sha256::new()
            .chain_update(salt.as_bytes())
            .chain_update(password.as_bytes())
            .finalize())
    }

    fn matches(&self, password: &str) -> bool {
        Self::hash(&self.salt, password) == self.sha256
    }
}

/// Whether a byte may stay as it is in a URL's password: RFC 3986 unreserved characters and
/// sub-delimiters, which Django's parsing (`urllib.parse.unquote`) leaves unchanged.
fn url_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&()*+,;=".contains(&byte)
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if url_safe(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `url` with its password part replaced by `password` (percent-encoded where needed);
/// every other byte is kept. `None` when the URL has no `user:password@` part.
pub fn with_password(url: &str, password: &str) -> Option<String> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    // As URL parsers do: the user information ends at the last '@' of the authority.
    let userinfo_len = authority.rfind('@')?;
    let colon = authority[..userinfo_len].find(':')?;
    let start = authority_start + colon + 1;
    let end = authority_start + userinfo_len;
    Some(format!(
        "{}{}{}",
        &url[..start],
        percent_encode(password),
        &url[end..]
    ))
}

/// `host:port` as an endpoint setting writes it (IPv6 in brackets).
fn endpoint_of(url: &DatabaseUrl) -> String {
    if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    }
}

/// Whether two endpoints name the same host (case-insensitively) and port.
fn same_endpoint(a: &str, b: &str) -> bool {
    match (parse_endpoint(a), parse_endpoint(b)) {
        (Ok(a), Ok(b)) => {
            let host = |h: &str| h.trim_end_matches('.').to_ascii_lowercase();
            host(&a.host) == host(&b.host) && a.port == b.port
        }
        _ => false,
    }
}

/// Where and how to log in for one app's `DATABASE_URL`.
struct Target {
    /// The URL's endpoint with the provider's TLS settings; user and password are set per
    /// login.
    base: MysqlConfig,
    /// The provider's admin login, when the URL points at `mysql.endpoint`.
    admin: Option<MysqlConfig>,
}

impl Target {
    fn login(&self, user: &str, password: &str) -> MysqlConfig {
        let mut config = self.base.clone();
        config.username = user.to_owned();
        config.password = SecretString::new(password);
        config
    }
}

/// The app's `DATABASE_URL`, as text and parsed. Errors point at `app`.
struct AppUrl {
    app_id: uuid::Uuid,
    text: String,
    parsed: DatabaseUrl,
}

fn at_app(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .at(attr!(DatabasePasswordModel, app))
        .into()
}

/// Reads the app's `DATABASE_URL` (`fresh`: not from this run's cache); masks its secrets.
async fn read_url(heroku: &HerokuClient, app: &str, fresh: bool) -> Result<AppUrl, Diagnostics> {
    let app_id = heroku.resolve_app_id(app).await?;
    let vars = heroku.read_config_vars(app_id, fresh).await?;
    let Some(text) = vars.get(DATABASE_URL) else {
        return Err(at_app(
            "No DATABASE_URL",
            format!("The app {} has no {DATABASE_URL} config var.", quote(app)),
        ));
    };
    tfplugin::log::register_secret(text);
    let parsed = DatabaseUrl::parse(text).map_err(|e| {
        at_app(
            "Unusable DATABASE_URL",
            format!(
                "The {DATABASE_URL} of {} cannot be used: {e}. Expected \
                 mysql://user:password@host:port/database.",
                quote(app)
            ),
        )
    })?;
    tfplugin::log::register_secret(&parsed.password);
    Ok(AppUrl {
        app_id,
        text: text.clone(),
        parsed,
    })
}

/// The configured `username` must be the URL's user.
fn check_username(
    model: &DatabasePasswordModel,
    url: &AppUrl,
    app: &str,
) -> Result<(), Diagnostics> {
    match model.username.get() {
        Some(user) if user != &url.parsed.username => Err(Diagnostic::error(
            "DATABASE_URL holds another user",
            format!(
                "The {DATABASE_URL} of {} logs in as {}, not {}: this resource would change the \
                 password of the account in the URL. Check `app`, or remove `username` to manage \
                 the URL's user.",
                quote(app),
                quote(&url.parsed.username),
                quote(user)
            ),
        )
        .at(attr!(DatabasePasswordModel, username))
        .into()),
        _ => Ok(()),
    }
}

/// Where the URL may be reached: `mysql.endpoint` (with the admin login as a fallback), or
/// the resource's `endpoint` when it names the URL's host; anything else is refused before
/// any connection. TLS settings are the provider's (mandatory off loopback).
fn target_of(
    clients: &Clients,
    model: &DatabasePasswordModel,
    url: &AppUrl,
    app: &str,
) -> Result<Target, Diagnostics> {
    let provider = clients.mysql_config().map_err(|mut diags| {
        diags.push(Diagnostic::error(
            "The provider's mysql settings are needed",
            "treeherder_database_password connects with the provider's mysql TLS settings \
             (tls_mode, tls_ca_file) and tunnels, and falls back to its admin login for mysql.endpoint: \
             configure the provider's `mysql {}` block (or its TREEHERDER_MYSQL_* variables).",
        ));
        diags
    })?;
    let url_endpoint = endpoint_of(&url.parsed);
    let admin = same_endpoint(&url_endpoint, &provider.endpoint);
    match model.endpoint.get() {
        Some(endpoint) if !same_endpoint(endpoint, &url_endpoint) => {
            return Err(Diagnostic::error(
                "DATABASE_URL points at another server",
                format!(
                    "The {DATABASE_URL} of {} points at {}, not at the endpoint {} given here.",
                    quote(app),
                    quote(&url_endpoint),
                    quote(endpoint)
                ),
            )
            .at(attr!(DatabasePasswordModel, endpoint))
            .into())
        }
        None if !admin => {
            return Err(at_app(
                "DATABASE_URL points at another server",
                format!(
                    "The {DATABASE_URL} of {} points at {}, not at the provider's mysql.endpoint \
                     {}. If that is the server to change, say so with `endpoint = {}` (the \
                     provider's admin login is then not used); otherwise check `app`.",
                    quote(app),
                    quote(&url_endpoint),
                    quote(&provider.endpoint),
                    quote(&url_endpoint)
                ),
            ))
        }
        _ => {}
    }
    // A clone, so the provider's TLS settings and tunnels come along.
    let mut base = provider.clone();
    base.endpoint = url_endpoint;
    // Refuses plaintext to a remote host before any byte is sent.
    base.validate().map_err(|e| {
        at_app(
            "Cannot connect to DATABASE_URL's server",
            format!("{e} (the provider's mysql TLS settings apply to {DATABASE_URL}'s host)"),
        )
    })?;
    Ok(Target {
        base,
        admin: admin.then(|| provider.clone()),
    })
}

/// The password configured to rotate to, if any: `password`, else `password_wo`.
fn configured_password(model: &DatabasePasswordModel) -> Result<Option<Password>, Diagnostics> {
    if let Some(password) = model.password.get() {
        return Ok(Some(password.password().clone()));
    }
    match model.password_wo.get() {
        Some(secret) => {
            write_only_password(secret, attr!(DatabasePasswordModel, password_wo)).map(Some)
        }
        None => Ok(None),
    }
}

/// Whether the configuration rotates (a password is given) rather than syncs.
fn rotates(model: &DatabasePasswordModel) -> bool {
    !model.password.is_null() || !model.password_wo.is_null()
}

/// Whether an apply must work on MySQL and `DATABASE_URL`: a create, an account out of sync
/// as last read, or (when `rotating`) a changed `password` or `password_wo_version`.
fn must_act(
    prior: Option<&DatabasePasswordModel>,
    planned: &DatabasePasswordModel,
    rotating: bool,
) -> bool {
    let Some(prior) = prior else {
        return true;
    };
    let new_password = prior.password != planned.password
        || prior.password_wo_version != planned.password_wo_version;
    prior.in_sync.get() != Some(&true) || (rotating && new_password)
}

fn timeout(model: &DatabasePasswordModel, update: bool) -> Duration {
    model.timeouts.as_ref().map_or(DEFAULT_TIMEOUT, |t| {
        timeout_or(if update { &t.update } else { &t.create }, DEFAULT_TIMEOUT)
    })
}

/// Whether `password` logs in as `user`, over TLS unless the provider's settings disable it
/// (loopback only).
async fn logs_in(target: &Target, user: &str, password: &str) -> Result<bool, Diagnostics> {
    let config = target.login(user, password);
    let Some(mut session) = AccountSession::open(&config).await? else {
        return Ok(false);
    };
    let tls = session.uses_tls().await;
    session.close().await;
    match tls? {
        true => Ok(true),
        false if config.tls_mode == TlsMode::Disabled => Ok(true),
        false => Err(Diagnostic::error(
            "The MySQL connection is not encrypted",
            format!(
                "The login to {} succeeded without TLS although the provider's settings require \
                 it; refusing to go on.",
                config.endpoint
            ),
        )
        .into()),
    }
}

/// Sets `password` for the URL's account with the provider's admin login (a sync, or a
/// rotation whose old password no longer logs in).
async fn set_with_admin(
    target: &Target,
    user: &str,
    password: &Password,
    why: &str,
) -> Result<(), Diagnostics> {
    let Some(admin) = &target.admin else {
        return Err(Diagnostic::error(
            "No login to change the password with",
            format!(
                "{why}, and the provider's admin login (mysql.username) is only used for \
                 mysql.endpoint, which is not {DATABASE_URL}'s server {}. Set the password by \
                 hand, or point the provider's mysql block at that server.",
                target.base.endpoint
            ),
        )
        .into());
    };
    let Some(mut session) = AccountSession::open(admin).await? else {
        return Err(Diagnostic::error(
            "The provider's admin login was refused",
            format!("{why}, and the server refused the provider's mysql.username login."),
        )
        .into());
    };
    let result = async {
        let hosts = session.account_hosts(user).await?;
        Ok::<_, MysqlError>(hosts)
    }
    .await;
    let hosts = match result {
        Ok(hosts) => hosts,
        Err(e) => {
            session.close().await;
            return Err(e.into());
        }
    };
    let host = match hosts.as_slice() {
        [host] => host.clone(),
        [] => {
            session.close().await;
            return Err(Diagnostic::error(
                "No such account",
                format!(
                    "{why}, and the server has no account named {}.",
                    quote(user)
                ),
            )
            .into());
        }
        many => {
            session.close().await;
            return Err(Diagnostic::error(
                "Several accounts with that name",
                format!(
                    "{why}, and the server has {} accounts named {} (hosts {}): which one \
                     DATABASE_URL logs in to cannot be told without its password. Set the \
                     password by hand.",
                    many.len(),
                    quote(user),
                    many.iter().map(|h| quote(h)).collect::<Vec<_>>().join(", ")
                ),
            )
            .into());
        }
    };
    let account = Account::new(user, &host).map_err(MysqlError::from)?;
    tfplugin::info!("setting the password of {account} with the provider's admin login");
    let set = session.set_password_of(&account, password).await;
    session.close().await;
    Ok(set?)
}

/// What a converge did.
struct Converged {
    /// Whether MySQL's password was set.
    set: bool,
}

impl DatabasePassword {
    /// Brings MySQL and `DATABASE_URL` in step for `model` and fills its computed attributes.
    /// A half-done rotation (MySQL set, `DATABASE_URL` not) is returned as `Ok` with an error
    /// on `ctx` and `in_sync = false`, so Terraform saves it.
    async fn converge(
        &self,
        ctx: &Context<'_, Clients>,
        mut model: DatabasePasswordModel,
        act: bool,
        limit: Duration,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let app = model.app.value()?.clone();
        let url = read_url(heroku, &app, true).await?;
        check_username(&model, &url, &app)?;
        let target = target_of(clients, &model, &url, &app)?;
        let user = url.parsed.username.clone();
        model.id.set(app.clone());
        model.host.set(url.parsed.host.clone());
        model.username.set(user.clone());
        if !act {
            // Nothing asked of MySQL or DATABASE_URL (e.g. only `timeouts` changed).
            return Ok(model);
        }
        let converged = match configured_password(&model)? {
            Some(password) => {
                tfplugin::log::register_secret(password.expose());
                self.rotate(ctx, heroku, &target, &url, &app, &password, limit)
                    .await?
            }
            None => sync(&target, &url).await?,
        };
        if converged.set {
            model.rotated_at.set(utc_seconds(SystemTime::now()));
        } else if model.rotated_at.is_unknown() {
            model.rotated_at = Field::Null;
        }
        let pending = ctx.private::<Pending>(PENDING).is_some();
        model.in_sync.set(!pending);
        Ok(model)
    }

    /// Rotation to `password`; see the module docs for the order.
    #[allow(clippy::too_many_arguments)]
    async fn rotate(
        &self,
        ctx: &Context<'_, Clients>,
        heroku: &HerokuClient,
        target: &Target,
        url: &AppUrl,
        app: &str,
        password: &Password,
        limit: Duration,
    ) -> Result<Converged, Diagnostics> {
        let user = &url.parsed.username;
        // MySQL may already hold it: the previous apply set it and could not write
        // DATABASE_URL, or someone set it by hand. Then MySQL is not changed again.
        let mut set = false;
        if logs_in(target, user, password.expose()).await? {
            tfplugin::info!("the new password of {user} already logs in; MySQL is not changed");
        } else {
            set = true;
            self.set_password(target, url, password).await?;
            // Proof before DATABASE_URL is touched.
            if !logs_in(target, user, password.expose()).await? {
                return Err(Diagnostic::error(
                    "The new password does not log in",
                    format!(
                        "The password of {} was set, but logging in with it was refused, so \
                         {DATABASE_URL} of {} was not changed. Check the account's host \
                         patterns and authentication plugin.",
                        quote(user),
                        quote(app)
                    ),
                )
                .into());
            }
        }
        let digest = PasswordDigest::of(password.expose());
        ctx.set_private(LAST_SET, &digest);
        let new_url = with_password(&url.text, password.expose()).ok_or_else(|| {
            at_app(
                "Unusable DATABASE_URL",
                format!("The {DATABASE_URL} of {} has no password part.", quote(app)),
            )
        })?;
        tfplugin::log::register_secret(&new_url);
        if new_url != url.text {
            let change: ConfigChange = [(DATABASE_URL.to_owned(), Some(new_url))]
                .into_iter()
                .collect();
            let applied = match heroku.change_config_vars(url.app_id, &change).await {
                Ok(applied) => applied,
                Err(e) => {
                    let reason = tfplugin::log::mask(&e.to_string());
                    ctx.set_private(
                        PENDING,
                        &Pending {
                            digest,
                            reason: reason.clone(),
                        },
                    );
                    ctx.add(Diagnostic::error(
                        "MySQL has the new password, DATABASE_URL does not",
                        format!(
                            "The password of {} was {} in MySQL and logs in, but writing \
                             {DATABASE_URL} of {} failed: {reason}. The app cannot connect to \
                             MySQL until {DATABASE_URL} is written. Run `terraform apply` \
                             again: it writes {DATABASE_URL} without changing MySQL again \
                             (with `password_wo`, give it the same value).",
                            quote(user),
                            if set { "changed" } else { "already set" },
                            quote(app)
                        ),
                    ));
                    return Ok(Converged { set });
                }
            };
            if let Some(release) = applied.release {
                let version = release.version;
                tfplugin::info!("{DATABASE_URL} of {app} changed: waiting for release v{version}");
                match heroku
                    .wait_for_release(url.app_id, app, version, limit, || ctx.is_stopping())
                    .await
                {
                    Ok(_) => {}
                    Err(ReleaseWaitError::Heroku(e)) => ctx.add(Diagnostic::error(
                        "Could not follow the release",
                        format!(
                            "{DATABASE_URL} of {} is written and MySQL has its password, but \
                             watching release v{version} failed: {}",
                            quote(app),
                            tfplugin::log::mask(&e.to_string())
                        ),
                    )),
                    Err(e) => ctx.add(Diagnostic::error(
                        "Release did not succeed",
                        tfplugin::log::mask(&e.to_string()),
                    )),
                }
            }
        }
        remove_pending(ctx);
        Ok(Converged { set })
    }

    /// Sets the password in MySQL: logged in with `DATABASE_URL`'s password (the runbook's
    /// way), or, when that no longer logs in, with the provider's admin login.
    async fn set_password(
        &self,
        target: &Target,
        url: &AppUrl,
        password: &Password,
    ) -> Result<(), Diagnostics> {
        let user = &url.parsed.username;
        let config = target.login(user, &url.parsed.password);
        match AccountSession::open(&config).await? {
            Some(mut session) => {
                tfplugin::info!("setting the password of {user}, logged in as {user}");
                let set = session.set_own_password(password).await;
                session.close().await;
                if let Err(e) = set {
                    // A lost answer may hide a change that was made.
                    if logs_in(target, user, password.expose()).await? {
                        return Ok(());
                    }
                    return Err(e.into());
                }
                Ok(())
            }
            None => {
                let why = format!(
                    "The password in {DATABASE_URL} no longer logs in as {}",
                    quote(user)
                );
                set_with_admin(target, user, password, &why).await
            }
        }
    }
}

/// Drops the record of a half-done rotation.
fn remove_pending(ctx: &Context<'_, Clients>) {
    // Private state has no removal through the context: a null value reads as absent.
    ctx.set_private(PENDING, &serde_json::Value::Null);
}

/// Sync: make MySQL accept the password `DATABASE_URL` holds (with the admin login), unless
/// it already does.
async fn sync(target: &Target, url: &AppUrl) -> Result<Converged, Diagnostics> {
    let user = &url.parsed.username;
    if logs_in(target, user, &url.parsed.password).await? {
        tfplugin::info!("the password in {DATABASE_URL} logs in as {user}; nothing to do");
        return Ok(Converged { set: false });
    }
    let password = Password::new(url.parsed.password.clone()).map_err(|e| {
        at_app(
            "DATABASE_URL's password cannot be set",
            format!(
                "The password in {DATABASE_URL} does not log in, and it cannot be set as it is: \
                 {e} Give `password` or `password_wo` to rotate to a new one instead."
            ),
        )
    })?;
    let why = format!(
        "The password in {DATABASE_URL} does not log in as {}",
        quote(user)
    );
    set_with_admin(target, user, &password, &why).await?;
    if !logs_in(target, user, &url.parsed.password).await? {
        return Err(Diagnostic::error(
            "The password still does not log in",
            format!(
                "The password of {} was set to the one in {DATABASE_URL}, but logging in with \
                 it is still refused. Check the account's host patterns and authentication \
                 plugin.",
                quote(user)
            ),
        )
        .into());
    }
    Ok(Converged { set: true })
}

#[async_trait]
impl Resource for DatabasePassword {
    type Model = DatabasePasswordModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_database_password"
    }

    fn validate(&self, config: &DatabasePasswordModel, diagnostics: &mut Diagnostics) {
        PasswordArguments {
            password: (&config.password, attr!(DatabasePasswordModel, password)),
            password_wo: (
                &config.password_wo,
                attr!(DatabasePasswordModel, password_wo),
            ),
            password_wo_version: (
                &config.password_wo_version,
                attr!(DatabasePasswordModel, password_wo_version),
            ),
        }
        .validate(
            " (or neither, to make MySQL accept the password DATABASE_URL holds).",
            diagnostics,
        );
        if let Some(endpoint) = config.endpoint.get() {
            if let Err(e) = parse_endpoint(endpoint) {
                diagnostics.push(
                    Diagnostic::error("Invalid endpoint", e.to_string())
                        .at(attr!(DatabasePasswordModel, endpoint)),
                );
            }
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<DatabasePasswordModel>,
    ) -> Result<(), Diagnostics> {
        // The write-only value is only in the configuration (validate may not have seen it).
        if let Some(secret) = plan.config.password_wo.get() {
            tfplugin::log::register_secret(secret.expose());
            write_only_password(secret, attr!(DatabasePasswordModel, password_wo))?;
        }
        if let Some(pending) = ctx.private::<Pending>(PENDING) {
            let again = if rotates(&plan.config) {
                "This apply writes DATABASE_URL; MySQL is not changed again if the password \
                 given is the one set then (with `password_wo` from a new ephemeral password it \
                 is not, and the password is rotated again)."
            } else {
                "Without a password in the configuration, this apply makes MySQL accept the \
                 password DATABASE_URL holds."
            };
            ctx.add(Diagnostic::warning(
                "The last rotation did not write DATABASE_URL",
                format!(
                    "The previous apply set the password in MySQL, but writing DATABASE_URL \
                     failed ({}). {again}",
                    pending.reason
                ),
            ));
        }
        let planned = &mut plan.planned;
        planned.in_sync.set(true);
        if let Some(app) = plan.config.app.get() {
            planned.id.set(app.clone());
        }
        let act = must_act(plan.prior.as_ref(), planned, rotates(&plan.config));
        match &plan.prior {
            Some(prior) if !act => planned.rotated_at = prior.rotated_at.clone(),
            _ => planned.rotated_at.set_unknown(),
        }
        if let Some(prior) = &plan.prior {
            planned.host = prior.host.clone();
        }
        // Values unknown until apply, or a provider configured only then: nothing to check.
        let (Some(clients), Some(app)) = (ctx.try_client(), plan.config.app.get().cloned()) else {
            return Ok(());
        };
        let heroku = clients.heroku()?;
        let url = read_url(heroku, &app, false).await?;
        check_username(&plan.config, &url, &app)?;
        target_of(clients, &plan.config, &url, &app)?;
        let planned = &mut plan.planned;
        planned.host.set(url.parsed.host.clone());
        if plan.config.username.is_null() {
            planned.username.set(url.parsed.username.clone());
        }
        Ok(())
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &DatabasePasswordModel,
    ) -> Result<(), Diagnostics> {
        let app = prior.app.as_str().unwrap_or("(unknown)");
        ctx.add(Diagnostic::warning(
            "Destroying only forgets the password",
            format!(
                "Destroying this resource removes it from the state only: the MySQL password \
                 and the DATABASE_URL of {} stay as they are.",
                quote(app)
            ),
        ));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        plan: DatabasePasswordModel,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let limit = timeout(&plan, false);
        self.converge(ctx, plan, true, limit).await
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: DatabasePasswordModel,
    ) -> Result<Option<DatabasePasswordModel>, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let app = state.app.value()?.clone();
        if let Some(password) = state.password.get() {
            tfplugin::log::register_secret(password.password().expose());
        }
        let url = match read_url(heroku, &app, false).await {
            Ok(url) => url,
            Err(_) => match heroku.resolve_app_id(&app).await {
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e.into()),
                // An app without a usable DATABASE_URL: out of sync; the plan says why.
                Ok(_) => {
                    state.in_sync.set(false);
                    return Ok(Some(state));
                }
            },
        };
        state.id.set(app.clone());
        state.host.set(url.parsed.host.clone());
        state.username.set(url.parsed.username.clone());
        // A server the provider may not reach is not connected to; the plan says why.
        let Ok(target) = target_of(clients, &state, &url, &app) else {
            state.in_sync.set(false);
            return Ok(Some(state));
        };
        let works = logs_in(&target, &url.parsed.username, &url.parsed.password).await?;
        // With a password configured, DATABASE_URL must hold the one this resource set.
        let ours = !rotates_state(&state)
            || ctx
                .private::<PasswordDigest>(LAST_SET)
                .is_none_or(|digest| digest.matches(&url.parsed.password));
        let pending = ctx.private::<Pending>(PENDING).is_some();
        state.in_sync.set(works && ours && !pending);
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: DatabasePasswordModel,
        plan: DatabasePasswordModel,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let limit = timeout(&plan, true);
        let act = must_act(Some(&prior), &plan, rotates(&plan));
        self.converge(ctx, plan, act, limit).await
    }

    async fn delete(
        &self,
        _ctx: &Context<'_, Clients>,
        _state: DatabasePasswordModel,
    ) -> Result<(), Diagnostics> {
        // Only forgets: the password and DATABASE_URL stay (see plan_destroy).
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<DatabasePasswordModel, Diagnostics> {
        let app = crate::clients::heroku::AppIdentity::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import id",
                format!("The import id is the app's name or UUID, whose DATABASE_URL holds the account. {e}"),
            )
        })?;
        let heroku = ctx.client()?.heroku()?;
        let url = read_url(heroku, &app, true).await.map_err(|mut diags| {
            for d in diags.0.iter_mut() {
                d.attribute = None;
            }
            diags.push(Diagnostic::error(
                "Invalid import id",
                "The import id is the app's name or UUID, whose DATABASE_URL holds the account.",
            ));
            diags
        })?;
        Ok(DatabasePasswordModel {
            app: Field::known(app),
            username: Field::known(url.parsed.username),
            endpoint: Field::Null,
            password: Field::Null,
            password_wo: Field::Null,
            password_wo_version: Field::Null,
            id: Field::known(id.to_owned()),
            host: Field::known(url.parsed.host),
            rotated_at: Field::Null,
            in_sync: Field::Null,
            timeouts: None,
        })
    }
}

/// Whether the state is of a rotating configuration (a password or its version is stored).
fn rotates_state(state: &DatabasePasswordModel) -> bool {
    !state.password.is_null() || !state.password_wo_version.is_null()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_password_part_of_the_url_changes() {
        let url = "mysql://th_admin:old-Pass@db.example.com:3306/treeherder?ssl=1&x=%2F#frag";
        let new = with_password(url, "N3w-pass.word~(x)*+,;=!$&").unwrap();
        assert_eq!(
            new,
            "mysql://th_admin:N3w-pass.word~(x)*+,;=!$&@db.example.com:3306/treeherder?ssl=1&x=%2F#frag"
        );
        let parsed = DatabaseUrl::parse(&new).unwrap();
        assert_eq!(parsed.password, "N3w-pass.word~(x)*+,;=!$&");
        assert_eq!(parsed.username, "th_admin");
        assert_eq!(parsed.database, "treeherder");
    }

    #[test]
    fn characters_urls_reserve_are_percent_encoded_and_decode_back() {
        let url = "mysql://us%40er:p%25w@h:3307/d";
        let new = with_password(url, "a%b@c/d#e:f g").unwrap();
        assert_eq!(new, "mysql://us%40er:a%25b%40c%2Fd%23e%3Af%20g@h:3307/d");
        let parsed = DatabaseUrl::parse(&new).unwrap();
        assert_eq!(parsed.password, "a%b@c/d#e:f g");
        assert_eq!(parsed.username, "us@er");
    }

    #[test]
    fn urls_without_a_password_part_are_refused() {
        assert_eq!(with_password("mysql://user@h/d", "x"), None);
        assert_eq!(with_password("mysql://h/d?u=a:b@c", "x"), None);
        assert_eq!(with_password("not a url", "x"), None);
    }

    #[test]
    fn endpoints_compare_by_host_case_and_port() {
        assert!(same_endpoint("DB.Example.com:3306", "db.example.com"));
        assert!(!same_endpoint("db.example.com:3307", "db.example.com:3306"));
        assert!(!same_endpoint(
            "prod.example.com:3306",
            "stage.example.com:3306"
        ));
        assert!(same_endpoint("[::1]:3306", "[::1]"));
    }

    #[test]
    fn digests_recognise_the_password_without_holding_it() {
        let digest = PasswordDigest::of("Rotated-Password-0123456789abcdef");
        assert!(digest.matches("Rotated-Password-0123456789abcdef"));
        assert!(!digest.matches("Rotated-Password-0123456789abcdeF"));
        let json = serde_json::to_string(&digest).unwrap();
        assert!(!json.contains("Rotated"), "{json}");
        // Salted: the same password gives another hash.
        assert_ne!(
            PasswordDigest::of("x").sha256,
            PasswordDigest::of("x").sha256
        );
    }

    #[test]
    fn schema_hides_passwords_and_marks_the_write_only_one() {
        let schema = DatabasePassword.schema().unwrap();
        assert!(schema.block.attribute("password").unwrap().sensitive);
        assert!(schema.block.attribute("password_wo").unwrap().write_only);
        for name in ["id", "host", "rotated_at", "in_sync"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        assert!(schema.block.attribute("app").unwrap().required);
    }

    #[test]
    fn logins_keep_the_provider_tunnels() {
        let rds = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";
        let mut base = MysqlConfig::new(rds, "th_admin", "admin-password");
        base.tunnels = crate::clients::mysql::Tunnels::parse([(rds, "127.0.0.1:13306")]).unwrap();
        let target = Target {
            base: base.clone(),
            admin: None,
        };
        let login = target.login("th_user", "user-password");
        assert_eq!(login.tunnels, base.tunnels);
        let dial = login.dial_target().unwrap();
        assert_eq!((dial.host.as_str(), dial.port), ("127.0.0.1", 13306));
    }
}
