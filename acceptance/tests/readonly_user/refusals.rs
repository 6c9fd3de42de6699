//! What is refused, and where: plaintext to a remote host, unreadable privilege tables,
//! existing, admin and privileged accounts, bad names, passwords and databases.

use super::*;

/// `tls_mode = "disabled"` for a non-loopback host fails before any byte is sent: a listener
/// reachable as `[::ffff:127.0.0.1]` (an IPv4-mapped address the provider treats as remote)
/// records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_to_a_remote_host_fails_before_connecting() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(AtomicU64::new(0));
    let (r, c) = (received.clone(), connections.clone());
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    r.fetch_add(n as u64, Ordering::SeqCst);
                }
            });
        }
    });

    // The mapped address does reach the listener, so silence below means "never tried".
    {
        use tokio::io::AsyncWriteExt;
        let mut probe = tokio::net::TcpStream::connect(format!("[::ffff:127.0.0.1]:{port}"))
            .await
            .expect("the IPv4-mapped address reaches the listener");
        probe.write_all(b"probe").await.expect("probe write");
        drop(probe);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while received.load(Ordering::SeqCst) < 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "probe bytes never arrived"
            );
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    received.store(0, Ordering::SeqCst);
    connections.store(0, Ordering::SeqCst);

    let admin_pw = password("plain", 'Z');
    let user_pw = password("u", 'Z');
    let config = format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}
provider "treeherder" {{
  mysql {{
    endpoint = "[::ffff:127.0.0.1]:{port}"
    username = "th_admin"
    password = "{admin_pw}"
    tls_mode = "disabled"
  }}
}}
resource "treeherder_readonly_user" "ro" {{
  name     = "never_created"
  password = "{user_pw}"
}}
"#
    );
    // The low-level API: the case's final destroy would fail on the same invalid provider
    // configuration, which is the point of the test.
    let secrets = vec![admin_pw.clone(), user_pw.clone()];
    let tf = acceptance::harness::terraform_for(
        &[treeherder_provider()],
        BTreeMap::new(),
        secrets.clone(),
    )
    .expect("terraform root");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&config).expect("config");
    work.init().await.expect("init");
    let refusal = Regex::new(r#"tls_mode "disabled" is only allowed for loopback hosts"#).unwrap();
    for args in [
        &["plan", "-input=false", "-no-color"][..],
        &["apply", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let out = work.run(args).await.expect("terraform runs");
        assert!(!out.success(), "{} must fail", out.command);
        let text = format!("{}\n{}", out.stdout, out.stderr);
        assert!(
            refusal.is_match(&text),
            "unexpected failure: {}",
            tf.redact(&text)
        );
    }
    let scan = tf.scan(&secrets).expect("secret scan");
    assert!(
        scan.files_scanned > 0 && scan.leaks.is_empty(),
        "{:?}",
        scan.leaks
    );
    server.abort();
    assert_eq!(connections.load(Ordering::SeqCst), 0, "connections made");
    assert_eq!(received.load(Ordering::SeqCst), 0, "bytes received");
}

/// An admin that cannot read mysql.* gets an error naming the missing privilege instead of an
/// account reported as having no grants; an account that already exists is refused at plan
/// time with the import command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_privilege_tables_and_existing_accounts_fail_the_plan() {
    let world = World::require(&[Service::Mysql]);
    let limited = unique("lim");
    let limited_pw = password("l", 'Z');
    let existing = unique("exists");
    let existing_pw = password("e", 'Z');
    let pw = password("x", 'Z');
    // Enough to create accounts and grant SELECT, but no SELECT on mysql.*.
    for sql in [
        format!("CREATE USER '{limited}'@'%' IDENTIFIED BY '{limited_pw}' REQUIRE SSL"),
        format!("GRANT CREATE USER ON *.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON treeherder.* TO '{limited}'@'%' WITH GRANT OPTION"),
        format!("CREATE USER '{existing}'@'%' IDENTIFIED BY '{existing_pw}' REQUIRE SSL"),
    ] {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let limited_case = treeherder_case()
        .envs(world.env().clone())
        .env("TREEHERDER_MYSQL_USERNAME", limited.clone())
        .env("TREEHERDER_MYSQL_PASSWORD", limited_pw.clone())
        .sensitive(pw.clone())
        .step(Step::config(config(&unique("never"))).expect_error(
            Regex::new(r"cannot read mysql\.user[\s\S]*SELECT\s+on\s+mysql\.\*").unwrap(),
        ))
        // No resources left, so the case's final destroy has nothing to plan.
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let existing_case = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(existing_pw.clone())
        .step(
            Step::config(config(&existing))
                .expect_error(Regex::new(r"already exists[\s\S]*terraform import").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let untouched = privileges(&mut conn, &existing).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, &[limited, existing]).await;
    if let Err(failure) = limited_case {
        panic!("limited admin: {failure}");
    }
    if let Err(failure) = existing_case {
        panic!("existing account: {failure}");
    }
    assert!(
        untouched.is_some_and(|p| p.tables.is_empty()),
        "the existing account must be left alone"
    );
}

/// Password rules are checked at plan time and reported at the `password` attribute, without
/// echoing the value in the provider's message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_passwords_fail_at_plan_time_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let config = |pw: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name = "never_created_pw"
  password = "{pw}"
}}
"#
        )
    };
    treeherder_case()
        .envs(world.env().clone())
        .step(
            Step::config(config("short-password-1"))
                .plan_only()
                .expect_error(
                    Regex::new(r#"(?s)password = .*16 characters long; at least 30"#).unwrap(),
                ),
        )
        .step(
            Step::config(config("abcdefghij0123456789abcdefghij%41"))
                .plan_only()
                .expect_error(Regex::new(r#"(?s)password = .*percent sign"#).unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// Issue 9 finding 4: the server lower-cases hosts; an account with `host = "Example.COM"`
/// or `"LOCALHOST"` stays in state with the configured spelling and plans nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_compare_case_insensitively() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let (a, b) = (unique("hosta"), unique("hostb"));
    let pw = password("hc", 'Z');
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "a" {{
  name     = "{a}"
  host     = "Example.COM"
  password = "{pw}"
}}
resource "treeherder_readonly_user" "b" {{
  name     = "{b}"
  host     = "LOCALHOST"
  password = "{pw}"
}}
"#
    );
    let check = {
        let (a, b) = (a.clone(), b.clone());
        move |state: &acceptance::harness::State| -> Result<(), String> {
            for (address, user, host) in [
                ("treeherder_readonly_user.a", &a, "Example.COM"),
                ("treeherder_readonly_user.b", &b, "LOCALHOST"),
            ] {
                if state.attr_str(address, "host").as_deref() != Some(host) {
                    return Err(format!("{address}: host spelling not kept"));
                }
                if state.attr_str(address, "id") != Some(format!("{user}@{host}")) {
                    return Err(format!("{address}: id {:?}", state.attr_str(address, "id")));
                }
                let granted =
                    strings(&state.attr(address, "granted_tables").unwrap_or(Value::Null));
                if !granted.contains(&"job".to_string()) {
                    return Err(format!("{address}: granted_tables {granted:?}"));
                }
            }
            Ok(())
        }
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config).check(check))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let mut left = Vec::new();
    for (user, host) in [(&a, "example.com"), (&b, "localhost")] {
        let rows: Vec<String> = conn
            .exec("SELECT User FROM mysql.user WHERE User = ?", (user,))
            .await
            .expect("mysql.user");
        left.extend(rows);
        conn.query_drop(format!("DROP USER IF EXISTS '{user}'@'{host}'"))
            .await
            .expect("cleanup");
    }
    conn.disconnect().await.ok();
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(left.is_empty(), "destroy left {left:?}");
}

/// Issue 9 finding 7: the provider's own login and accounts with more than SELECT can be
/// neither imported nor managed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_privileged_accounts_are_refused() {
    let world = World::require(&[Service::Mysql]);
    let login = world
        .get("TREEHERDER_MYSQL_USERNAME")
        .expect("admin user")
        .to_string();
    let writer = unique("writer");
    let writer_pw = password("w", 'Z');
    let pw = password("ad", 'Z');
    for sql in [
        format!("CREATE USER '{writer}'@'%' IDENTIFIED BY '{writer_pw}' REQUIRE SSL"),
        format!("GRANT SELECT, INSERT ON treeherder.job TO '{writer}'@'%'"),
    ] {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "x" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let address = "treeherder_readonly_user.x";
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(writer_pw.clone())
        .step(
            Step::import(address)
                .import_id(format!("{login}@%"))
                .with_config(config(&login))
                .expect_error(Regex::new(r"account\s+the\s+provider\s+logs\s+in\s+with").unwrap()),
        )
        .step(
            Step::import(address)
                .import_id(format!("{writer}@%"))
                .with_config(config(&writer))
                .expect_error(
                    Regex::new(
                        r"privileges\s+beyond\s+SELECT[\s\S]*INSERT\s+on\s+`treeherder`\.`job`",
                    )
                    .unwrap(),
                ),
        )
        .step(
            Step::config(config(&login))
                .plan_only()
                .expect_error(Regex::new(r"account\s+the\s+provider\s+logs\s+in\s+with").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let writer_left = privileges(&mut conn, &writer).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&writer)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        writer_left.is_some_and(|p| p.ssl_type == "ANY"),
        "the privileged account must be left alone"
    );
}

/// Issue 9 finding 10: a name the server's utf8mb3 privilege tables cannot compare (ERROR 1267)
/// is refused at `name` before any SQL runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_outside_the_basic_multilingual_plane_fail_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let pw = password("e", 'Z');
    treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "reader_😀"
  password = "{pw}"
}}
"#
            ))
            .plan_only()
            .expect_error(Regex::new(r"name\s*=[\s\S]*Basic\s+Multilingual\s+Plane").unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

/// A database that does not exist is an error at `database`, not a "MySQL error" at the block.
#[tokio::test]
async fn an_unknown_database_fails_the_plan_at_the_attribute() {
    let world = World::require(&[Service::Mysql]);
    let pw = password("f", 'Z');
    treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
  database = "no_such_database_here"
}}
"#,
                name = unique("nodb")
            ))
            .plan_only()
            .expect_error(
                Regex::new(r#"Unknown database[\s\S]*database\s*=\s*"no_such_database_here"[\s\S]*does not exist"#)
                    .unwrap(),
            ),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}
