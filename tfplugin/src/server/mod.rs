//! The plugin server: go-plugin's handshake, AutoMTLS and side services, as
//! Terraform expects them from a provider process.
//!
//! Terraform starts the provider with a magic cookie, the protocol versions it
//! accepts, a port range and its client certificate in the environment. The
//! provider listens on loopback, prints one handshake line on stdout
//! (`1|6|tcp|127.0.0.1:PORT|grpc|CERT`) and serves gRPC over mutual TLS until
//! Terraform calls `plugin.GRPCController/Shutdown`.
//!
//! [`serve`] does all of that; [`serve_debug`] runs the same services in plaintext
//! for `TF_REATTACH_PROVIDERS`, where the provider is started by hand.

mod config;
mod services;
mod tls;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use futures::{Stream, StreamExt};
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::transport::server::{Connected, Router};
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::proto::plugin::grpc_broker_server::GrpcBrokerServer;
use crate::proto::plugin::grpc_controller_server::GrpcControllerServer;
use crate::proto::plugin::grpc_stdio_server::GrpcStdioServer;
use crate::proto::tfplugin6::provider_server::{Provider, ProviderServer};

pub use config::{
    ServeConfig, CLIENT_CERT_KEY, DEFAULT_MAX_PORT, DEFAULT_MIN_PORT, MAGIC_COOKIE_KEY,
    MAGIC_COOKIE_VALUE, MAX_PORT_KEY, MIN_PORT_KEY, PROTOCOL_VERSION, PROTOCOL_VERSIONS_KEY,
};
use services::{Broker, Controller, ShutdownSignal, Stdio};

/// Largest gRPC message accepted or sent by the Provider service. Terraform
/// sends whole states and schemas in one message; tonic's 4 MiB default is
/// too small for large ones (terraform-plugin-go uses the same 256 MiB).
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// Health-check service name go-plugin's client asks about.
const HEALTH_SERVICE_NAME: &str = "plugin";
/// How long in-flight calls get to finish after Shutdown; Terraform kills the
/// process 2 s after calling Shutdown.
const DRAIN_GRACE: Duration = Duration::from_millis(500);
/// A client that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed `accept` (e.g. out of file descriptors) before retrying.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// Why the plugin server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The magic cookie is missing or wrong: a person ran the binary by hand.
    #[error(
        "This binary is a Terraform provider plugin. It is not meant to be run directly: \
         Terraform starts it by itself whenever a configuration uses the provider, and talks \
         to it over a private gRPC connection. To use it, make Terraform find it (for example \
         with a `dev_overrides` entry or a filesystem mirror in your Terraform CLI \
         configuration file, or by installing it under ~/.terraform.d/plugins), then run \
         `terraform plan` or `terraform apply` in a configuration that uses the provider. \
         ({MAGIC_COOKIE_KEY} was missing or wrong.)"
    )]
    NotLaunchedByTerraform,

    /// The client does not accept protocol version 6.
    #[error(
        "The Terraform client offered plugin protocol version(s) {} ({PROTOCOL_VERSIONS_KEY}), \
         but this provider speaks only protocol version {PROTOCOL_VERSION}. Use Terraform 1.0 \
         or later, which supports protocol version {PROTOCOL_VERSION}.",
        format_versions(offered)
    )]
    UnsupportedProtocol {
        /// The versions the client listed.
        offered: Vec<u32>,
    },

    /// An environment variable set by the host has an unusable value.
    #[error("{variable} is invalid: {reason}")]
    InvalidEnvironment {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// No port in the allowed range could be bound.
    #[error("could not listen on any port of 127.0.0.1 from {min} to {max}: {last_error}")]
    NoFreePort {
        /// Lowest port tried.
        min: u16,
        /// Highest port tried.
        max: u16,
        /// Why the last attempt failed.
        last_error: std::io::Error,
    },

    /// Listening socket trouble outside the port search.
    #[error("listening socket error: {0}")]
    Listen(#[source] std::io::Error),

    /// The handshake line (or reattach information) could not be written.
    #[error("could not write the plugin handshake: {0}")]
    Handshake(#[source] std::io::Error),

    /// Generating the server certificate failed.
    #[error("could not generate the TLS server certificate: {0}")]
    Certificate(#[from] rcgen::Error),

    /// The TLS configuration could not be built.
    #[error("TLS configuration error: {0}")]
    Tls(#[from] rustls::Error),

    /// The gRPC server failed.
    #[error("gRPC server error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn format_versions(versions: &[u32]) -> String {
    if versions.is_empty() {
        return "none".to_owned();
    }
    versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Serves `provider` the way Terraform starts plugins: checks `config`, listens
/// on 127.0.0.1 within the configured port range, writes the handshake line to
/// `handshake_out` (the process's stdout in real use) and serves over mutual
/// TLS until Terraform calls Shutdown. Returns once the server has stopped.
///
/// While it runs, SIGINT is ignored: Terraform forwards Ctrl-C to its whole
/// process group and stops providers through StopProvider and Shutdown instead.
///
/// Without a client certificate in `config` (host ran with
/// `TF_DISABLE_PLUGIN_TLS`), it serves plaintext and the handshake's
/// certificate field is empty, as go-plugin does.
pub async fn serve<P>(
    provider: P,
    config: ServeConfig,
    mut handshake_out: impl Write + Send,
) -> Result<(), ServeError>
where
    P: Provider,
{
    config.check()?;
    let client_cert = config.client_certificate()?;
    let _interrupts = ignore_interrupts();

    let listener = bind_in_range(config.min_port, config.max_port).await?;
    let addr = listener.local_addr().map_err(ServeError::Listen)?;
    let shutdown = ShutdownSignal::new();
    let router = routes(provider, &shutdown).await;
    let _orphan_watch = exit_when_orphaned(shutdown.clone());

    match client_cert {
        Some(client_cert) => {
            let crypto = tls::crypto_provider();
            let identity = tls::ServerIdentity::generate(&crypto)?;
            let tls_config = tls::server_config(crypto, &identity, client_cert)?;
            write_handshake(&mut handshake_out, addr, Some(identity.cert_der()))?;
            drop(handshake_out);
            let (incoming, _accept_loop) =
                tls_incoming(listener, TlsAcceptor::from(Arc::new(tls_config)));
            run(router, incoming, shutdown).await
        }
        None => {
            write_handshake(&mut handshake_out, addr, None)?;
            drop(handshake_out);
            run(router, plain_incoming(listener), shutdown).await
        }
    }
}

/// Serves `provider` in plaintext on 127.0.0.1 (a port chosen by the OS) for
/// Terraform's reattach mode, and writes to `out` the `TF_REATTACH_PROVIDERS`
/// value to give Terraform (registered under `provider_address`, e.g.
/// `registry.terraform.io/example/widget`) plus a line saying how to use
/// it. Runs until Ctrl-C or until a client calls Shutdown.
pub async fn serve_debug<P>(
    provider: P,
    provider_address: &str,
    mut out: impl Write + Send,
) -> Result<(), ServeError>
where
    P: Provider,
{
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(ServeError::Listen)?;
    let addr = listener.local_addr().map_err(ServeError::Listen)?;
    let shutdown = ShutdownSignal::new();
    let router = routes(provider, &shutdown).await;

    let reattach = reattach_json(provider_address, addr);
    writeln!(
        out,
        "Provider server started. To use it, set this in the environment of the Terraform \
         commands you run (it stays valid until you stop this process with Ctrl-C):\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n"
    )
    .and_then(|()| out.flush())
    .map_err(ServeError::Handshake)?;
    drop(out);

    let on_ctrl_c = shutdown.clone();
    let _ctrl_c = AbortOnDrop(tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.trigger();
        }
    }));
    run(router, plain_incoming(listener), shutdown).await
}

/// The `TF_REATTACH_PROVIDERS` JSON for one provider served plaintext at `addr`.
pub fn reattach_json(provider_address: &str, addr: SocketAddr) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            // Terraform 1.0 reads 0 (absent) as protocol 5, so say 6 explicitly.
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() },
        }
    })
    .to_string()
}

/// All services a go-plugin host expects, sharing one shutdown latch.
async fn routes<P: Provider>(provider: P, shutdown: &ShutdownSignal) -> Router {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    Server::builder()
        .add_service(health_service)
        .add_service(provider)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
}

/// Serves until shutdown, then gives in-flight calls [`DRAIN_GRACE`] to finish
/// and returns even if some connection lingers (Terraform kills us soon after).
async fn run<I, IO, IE>(
    router: Router,
    incoming: I,
    shutdown: ShutdownSignal,
) -> Result<(), ServeError>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stop = shutdown.clone();
    let server =
        router.serve_with_incoming_shutdown(incoming, async move { stop.triggered().await });
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result.map_err(ServeError::from),
        () = async {
            shutdown.triggered().await;
            tokio::time::sleep(DRAIN_GRACE).await;
        } => Ok(()),
    }
}

/// Binds the first free port of `min..=max`, starting at a random point so that
/// several providers started at once rarely contend for the same port.
async fn bind_in_range(min: u16, max: u16) -> Result<TcpListener, ServeError> {
    let span = u32::from(max - min) + 1;
    let start = random_u32() % span;
    let mut last_error = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "empty range");
    for step in 0..span {
        let offset = (start + step) % span;
        // `offset < span <= 65536`, and min + offset <= max.
        let port = min + offset as u16;
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = err,
        }
    }
    Err(ServeError::NoFreePort {
        min,
        max,
        last_error,
    })
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    // Only spreads the starting port; all zeroes is an acceptable fallback.
    let _ = tls::crypto_provider().secure_random.fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

/// Writes go-plugin's handshake line: core version 1, app protocol 6, network,
/// address, `grpc`, then the server certificate's DER in unpadded standard
/// base64 (go-plugin decodes it with `RawStdEncoding`).
fn write_handshake(
    out: &mut impl Write,
    addr: SocketAddr,
    cert: Option<&CertificateDer<'_>>,
) -> Result<(), ServeError> {
    let cert = cert
        .map(|der| STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    writeln!(out, "1|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
        .and_then(|()| out.flush())
        .map_err(ServeError::Handshake)
}

/// Aborts a background task when the owner goes away.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts TCP connections and completes their TLS handshakes in the
/// background, yielding only connections whose handshake (including the client
/// certificate check) succeeded. A failed handshake drops that connection and
/// nothing else.
fn tls_incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> (
    impl Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>>,
    AbortOnDrop,
) {
    let (ready_tx, ready_rx) = mpsc::channel(16);
    let accept_loop = tokio::spawn(async move {
        while !ready_tx.is_closed() {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    log_line("WARN", format_args!("accepting a connection failed: {err}"));
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            };
            // gRPC's small frames would otherwise wait on Nagle's algorithm (~40 ms each).
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let ready_tx = ready_tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        // The receiver is gone only when the server has stopped.
                        let _ = ready_tx.send(stream).await;
                    }
                    Ok(Err(err)) => log_line(
                        "WARN",
                        format_args!("TLS handshake with {peer} failed, connection dropped: {err}"),
                    ),
                    Err(_) => log_line(
                        "WARN",
                        format_args!("TLS handshake with {peer} timed out, connection dropped"),
                    ),
                }
            });
        }
    });
    (
        ReceiverStream::new(ready_rx).map(Ok),
        AbortOnDrop(accept_loop),
    )
}

/// Plaintext connections, with Nagle's algorithm off as for TLS ones.
fn plain_incoming(listener: TcpListener) -> impl Stream<Item = Result<TcpStream, std::io::Error>> {
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|tcp| {
            let _ = tcp.set_nodelay(true);
        })
    })
}

/// One `[LEVEL] message` line on stderr, the format Terraform's plugin client
/// maps to its own log levels.
fn log_line(level: &str, message: std::fmt::Arguments<'_>) {
    let level = match level {
        "ERROR" => crate::log::Level::Error,
        "WARN" => crate::log::Level::Warn,
        "INFO" => crate::log::Level::Info,
        "DEBUG" => crate::log::Level::Debug,
        _ => crate::log::Level::Trace,
    };
    crate::log::write(level, format_args!("tfplugin: {message}"));
}

/// How often the parent is checked: a killed Terraform leaves its provider orphaned.
const PARENT_POLL: Duration = Duration::from_millis(200);

/// Shuts down once the process that started us is gone (a `kill -9` of Terraform never
/// calls Shutdown; the orphan would keep listening). Re-parenting shows as a new parent id.
fn exit_when_orphaned(shutdown: ShutdownSignal) -> Option<AbortOnDrop> {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        if parent == 1 {
            // Started by init (or already orphaned): there is no parent to outlive.
            return None;
        }
        Some(AbortOnDrop(tokio::spawn(async move {
            let mut tick = tokio::time::interval(PARENT_POLL);
            loop {
                tick.tick().await;
                if std::os::unix::process::parent_id() != parent {
                    log_line(
                        "WARN",
                        format_args!("the process that started the provider ({parent}) is gone; shutting down"),
                    );
                    shutdown.trigger();
                    return;
                }
            }
        })))
    }
    #[cfg(not(unix))]
    {
        let _ = shutdown;
        None
    }
}

/// Catches SIGINT for the rest of the process's life so that Ctrl-C in
/// Terraform does not kill us mid-operation. The returned guard only stops the
/// draining task; tokio keeps the handler installed, so SIGINT stays harmless.
fn ignore_interrupts() -> Option<AbortOnDrop> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::interrupt()) {
            Ok(mut interrupts) => Some(AbortOnDrop(tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    log_line(
                        "DEBUG",
                        format_args!("ignoring SIGINT; waiting for Terraform to stop us"),
                    );
                }
            }))),
            Err(err) => {
                log_line("WARN", format_args!("could not ignore SIGINT: {err}"));
                None
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}
