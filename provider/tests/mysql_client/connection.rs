//! Connections: TLS modes, plaintext refusals, unreadable privilege tables, tunnels, CA files.

use super::*;

#[tokio::test]
async fn plaintext_to_a_remote_host_is_refused_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let plaintext = |endpoint: &str| MysqlConfig {
        endpoint: endpoint.to_owned(),
        tls_mode: TlsMode::Disabled,
        tls_ca_file: None,
        ..admin_config("treeherder")
    };
    // The documented case: a remote name.
    let config = plaintext("db.example.com:3306");
    let err = MysqlClient::connect(config).await.unwrap_err();
    assert!(
        matches!(&err, MysqlError::Config(e @ ConfigError::TlsRequired { .. }) if e.attribute() == "tls_mode"),
        "{err}"
    );

    // An address the policy treats as remote but that reaches our listener: the IPv4-mapped
    // form of 127.0.0.1. Refused without any connection reaching the listener (connect has
    // returned, so any TCP handshake would already be in the accept queue).
    let mapped = format!("[::ffff:127.0.0.1]:{port}");
    let err = MysqlClient::connect(plaintext(&mapped)).await.unwrap_err();
    assert!(
        matches!(err, MysqlError::Config(ConfigError::TlsRequired { .. })),
        "{err}"
    );
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "a plaintext connection attempt reached the listener"
    );

    // Control: with TLS required the same endpoint is contacted, so the check above is
    // meaningful. (The handshake then fails because the listener never answers.)
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let config = MysqlConfig {
        tls_mode: TlsMode::VerifyIdentity,
        ..plaintext(&mapped)
    };
    let attempt = tokio::spawn(MysqlClient::connect(config));
    let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
    attempt.abort();
    assert!(
        matches!(accepted, Ok(Ok(_))),
        "control connection never arrived"
    );
}

#[tokio::test]
async fn unreadable_privilege_tables_are_an_error_not_empty_grants() {
    let mut fx = Fixture::new(&["job"]).await;
    let client = fx.client().await;
    let reader = fx.account("ro");
    client
        .create_user(&reader, &password('h'), true)
        .await
        .unwrap();

    // An admin that can manage accounts but cannot read mysql.*.
    let limited = fx.account("adm");
    let limited_pw = "limited-admin-password-0123456789";
    fx.sql(&format!(
        "CREATE USER {} IDENTIFIED BY '{limited_pw}'",
        limited.quoted()
    ))
    .await;
    fx.sql(&format!("GRANT CREATE USER ON *.* TO {}", limited.quoted()))
        .await;
    fx.sql(&format!(
        "GRANT SELECT ON `{{db}}`.* TO {} WITH GRANT OPTION",
        limited.quoted()
    ))
    .await;
    let config = MysqlConfig {
        username: limited.user().to_owned(),
        password: limited_pw.into(),
        ..admin_config(&fx.database)
    };
    let limited_client = MysqlClient::connect(config).await.unwrap();
    let err = limited_client.read_user(&reader).await.unwrap_err();
    assert!(
        matches!(
            err,
            MysqlError::PrivilegeTablesUnreadable {
                table: "mysql.user",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("SELECT on mysql.*"), "{err}");
    limited_client.disconnect().await.unwrap();
    client.disconnect().await.unwrap();
    fx.cleanup().await;
}

#[tokio::test]
async fn session_encryption_follows_the_tls_mode() {
    let client = MysqlClient::connect(admin_config("mysql")).await.unwrap();
    let cipher = client.session_tls_cipher().await.unwrap();
    assert_eq!(cipher.is_some(), tls_configured(), "{cipher:?}");
    client.disconnect().await.unwrap();
    if !tls_configured() {
        return;
    }
    // The IPv4-mapped address reaches the same server but is not in its certificate:
    // host name verification must refuse it.
    let port = endpoint().rsplit_once(':').unwrap().1.to_owned();
    let config = MysqlConfig {
        endpoint: format!("[::ffff:127.0.0.1]:{port}"),
        tls_mode: TlsMode::VerifyIdentity,
        ..admin_config("mysql")
    };
    let err = MysqlClient::connect(config.clone()).await.unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { message, .. } if message.contains("not valid for name")),
        "{err}"
    );
    // verify_ca asks mysql_async to skip the name check, but mysql_async 0.37 recognises
    // the name error by matching "NotValidForName" in rustls 0.23's message, which now reads
    // "certificate not valid for name": the mismatch is still refused (fails closed). If this
    // starts passing, mysql_async fixed it and verify_ca works as documented.
    let err = MysqlClient::connect(MysqlConfig {
        tls_mode: TlsMode::VerifyCa,
        ..config.clone()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, MysqlError::Connect { .. }), "{err}");

    // A CA that did not sign the server certificate is refused, in both modes.
    let mut other_ca = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut other_ca, UNRELATED_CA.as_bytes()).unwrap();
    for mode in [TlsMode::VerifyIdentity, TlsMode::VerifyCa] {
        let err = MysqlClient::connect(MysqlConfig {
            tls_mode: mode,
            tls_ca_file: Some(other_ca.path().to_owned()),
            ..admin_config("mysql")
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, MysqlError::Connect { message, .. } if message.contains("UnknownIssuer")),
            "{mode:?}: {err}"
        );
    }
}

/// An RDS-style endpoint name, in the world's certificate (`*.aaaaaaaaaa.us-east-1.rds.
/// amazonaws.com`); it is only ever reached through `tunnels`, never resolved.
const RDS_ENDPOINT: &str = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";

/// The admin configuration for `remote`, tunnelled to the test server.
fn tunnelled_config(remote: &str) -> MysqlConfig {
    MysqlConfig {
        endpoint: remote.to_owned(),
        tunnels: Tunnels::parse([(remote, endpoint().as_str())]).unwrap(),
        ..admin_config("mysql")
    }
}

#[tokio::test]
async fn tunnels_dial_the_local_address_and_verify_the_real_host() {
    if tls_mode() != TlsMode::VerifyIdentity {
        // Needs the world's server certificate, which names the RDS-style hosts.
        return;
    }
    // The admin client and a one-account session both go through the tunnel, over TLS.
    let client = MysqlClient::connect(tunnelled_config(RDS_ENDPOINT))
        .await
        .unwrap();
    assert!(client.session_tls_cipher().await.unwrap().is_some());
    assert_eq!(client.endpoint(), RDS_ENDPOINT);
    client.disconnect().await.unwrap();
    let mut session = AccountSession::open(&tunnelled_config(RDS_ENDPOINT))
        .await
        .unwrap()
        .expect("the admin login was refused");
    assert!(session.uses_tls().await.unwrap());
    session.close().await;

    // The same local address under a name the certificate lacks: the certificate is checked
    // against the tunnelled name, so both sites refuse it, naming the endpoint and the tunnel.
    let other = "db.example.invalid:3306";
    let err = MysqlClient::connect(tunnelled_config(other))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { endpoint, message }
            if endpoint == other && message.contains("not valid for name")
                && message.contains("through the tunnel at")),
        "{err}"
    );
    let err = AccountSession::open(&tunnelled_config(other))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MysqlError::Connect { endpoint, message }
            if endpoint == other && message.contains("not valid for name")),
        "{err}"
    );

    // Plaintext to the tunnelled RDS name is refused before connecting.
    let err = MysqlClient::connect(MysqlConfig {
        tls_mode: TlsMode::Disabled,
        tls_ca_file: None,
        ..tunnelled_config(RDS_ENDPOINT)
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, MysqlError::Config(ConfigError::TlsRequired { .. })),
        "{err}"
    );
}

/// A throwaway self-signed CA (generated for these tests) that signed nothing.
const UNRELATED_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUCk2bk6S0HNQ2pAewd1hk73y8IBowCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRdW5yZWxhdGVkIHRlc3QgQ0EwHhcNMjYxMTI0MjM1NTMyWhcN
MzYxMTIxMjM1NTMyWjAcMRowGAYDVQQDDBF1bnJlbGF0ZWQgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJluX9srz7v2RZaA71XnxP66djKlFavNKrdE
MKnSvcKIb5CX5ACpQ55gnPIRODyl4C8i8RNgl8XMqgaUeOVLr+WjUzBRMB0GA1Ud
DgQWBBTgFW5yzY3ZogbcHM/hHX4GUcqkgTAfBgNVHSMEGDAWgBTgFW5yzY3Zogbc
HM/hHX4GUcqkgTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEnM
fipVeyvGVIPIn/Z+dAnyxK8Bd6CoLlvq+CDZ7S3/AiEA8nkeTplRGRgRdN8NXGu9
tC+MFwRqQbwoIbJ+lPVQ3XI=
-----END CERTIFICATE-----
";

#[tokio::test]
async fn unusable_ca_file_is_a_config_error_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let not_pem = tempfile::NamedTempFile::new().unwrap();
    for path in [
        not_pem.path().to_owned(),
        std::path::PathBuf::from("/nonexistent/ca.pem"),
    ] {
        let config = MysqlConfig {
            endpoint: endpoint.clone(),
            tls_mode: TlsMode::VerifyIdentity,
            tls_ca_file: Some(path.clone()),
            ..admin_config("treeherder")
        };
        let err = MysqlClient::connect(config).await.unwrap_err();
        assert!(
            matches!(&err, MysqlError::Config(e @ ConfigError::CaFileUnusable { .. }) if e.attribute() == "tls_ca_file"),
            "{path:?}: {err}"
        );
    }
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}
