//! Where the account of an app's `DATABASE_URL` is reached, and logging in or setting its
//! password there.

use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics};

use crate::clients::database_url::{endpoint_of, same_endpoint, DatabaseUrl, DATABASE_URL};
use crate::clients::heroku::HerokuClient;
use crate::clients::mysql::{
    Account, AccountSession, MysqlConfig, MysqlError, Password, SecretString, TlsMode,
};
use crate::clients::Clients;

use super::model::*;
use super::Converged;

/// Where and how to log in for one app's `DATABASE_URL`.
pub(super) struct Target {
    /// The URL's endpoint with the provider's TLS settings; user and password are set per
    /// login.
    pub(super) base: MysqlConfig,
    /// The provider's admin login, when the URL points at `mysql.endpoint`.
    pub(super) admin: Option<MysqlConfig>,
}

impl Target {
    pub(super) fn login(&self, user: &str, password: &str) -> MysqlConfig {
        let mut config = self.base.clone();
        config.username = user.to_owned();
        config.password = SecretString::new(password);
        config
    }
}

/// The app's `DATABASE_URL`, as text and parsed. Errors point at `app`.
pub(super) struct AppUrl {
    pub(super) app_id: uuid::Uuid,
    pub(super) text: String,
    pub(super) parsed: DatabaseUrl,
}

pub(super) fn at_app(summary: &str, detail: String) -> Diagnostics {
    Diagnostic::error(summary, detail)
        .at(attr!(DatabasePasswordModel, app))
        .into()
}

/// Reads the app's `DATABASE_URL` (`fresh`: not from this run's cache); masks its secrets.
pub(super) async fn read_url(
    heroku: &HerokuClient,
    app: &str,
    fresh: bool,
) -> Result<AppUrl, Diagnostics> {
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
pub(super) fn check_username(
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
pub(super) fn target_of(
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

/// Whether `password` logs in as `user`, over TLS unless the provider's settings disable it
/// (loopback only).
pub(super) async fn logs_in(
    target: &Target,
    user: &str,
    password: &str,
) -> Result<bool, Diagnostics> {
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
pub(super) async fn set_with_admin(
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

/// Sync: make MySQL accept the password `DATABASE_URL` holds (with the admin login), unless
/// it already does.
pub(super) async fn sync(target: &Target, url: &AppUrl) -> Result<Converged, Diagnostics> {
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
