//! Loading through the public API: layering, and one-line errors that name the key.

// Helpers outside #[test] functions panic on purpose too.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::PathBuf;

use spgw_config::{Config, ConfigError, DatabaseBackend, LogFormat, MasterKeySource, load, load_str};

const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A file in a folder private to this test.
fn temp_file(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spgw-config-load-{}-{test}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sp-gateway.json");
    fs::write(&path, text).unwrap();
    path
}

/// A failing case: file text, environment, and the part of the error to find.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

fn error(text: &str, vars: &[(&str, &str)]) -> String {
    let err = load_str(text, env(vars)).unwrap_err().to_string();
    assert!(!err.contains('\n'), "error must be one line: {err}");
    err
}

#[test]
fn defaults_without_file_or_env() {
    let config = load_str("", env(&[("PATH", "/bin"), ("SPGW_ADMIN_PASSWORD", "x")])).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.server.host, "127.0.0.1");
    assert_eq!(config.server.port, 8080);
    assert_eq!(config.server.request_timeout_secs, 300);
    assert_eq!(config.server.shutdown_grace_secs, 20);
    assert!(config.server.allowed_origins.is_empty());
    assert_eq!(config.database.max_open, 10);
    assert_eq!(config.database.max_idle, 2);
    assert_eq!(config.redis.session_ttl_secs, 604_800);
    assert_eq!(config.redis.key_prefix, "spgw:");
    assert_eq!(config.logging.level, "info");
    assert_eq!(config.logging.format, LogFormat::Text);
    assert_eq!(config.limits.max_body_bytes, 32 << 20);
    assert_eq!(config.limits.max_json_bytes, 4 << 20);
    assert_eq!(config.database_url(), "sqlite://./data/sp-gateway.db?mode=rwc");
    assert_eq!(config.database_backend(), DatabaseBackend::Sqlite);
    assert_eq!(config.master_key_source(), MasterKeySource::Generated(PathBuf::from("./data/master.key")));
    assert!(Config::default().validate().is_ok());
}

#[test]
fn env_overrides_file_which_overrides_defaults() {
    let file = r#"{
        // file sets port and host; env overrides the port only
        "server": {"host": "0.0.0.0", "port": 1234, "data_dir": "/var/lib/spgw"},
        "database": {"max_open": 20},
        "logging": {"format": "json"},
    }"#;
    let config = load_str(
        file,
        env(&[
            ("SPGW__SERVER__PORT", "9000"),
            ("SPGW__DATABASE__URL", "mysql://root@127.0.0.1:3306/test"),
            ("SPGW__SERVER__ALLOWED_ORIGINS", r#"["http://a.example", "https://b.example:8443"]"#),
            ("SPGW__REDIS__URL", "redis://127.0.0.1:6379"),
        ]),
    )
    .unwrap();
    assert_eq!(config.server.host, "0.0.0.0");
    assert_eq!(config.server.port, 9000);
    assert_eq!(config.server.allowed_origins, ["http://a.example", "https://b.example:8443"]);
    assert_eq!(config.database.max_open, 20);
    assert_eq!(config.database.max_idle, 2, "untouched keys keep their defaults");
    assert_eq!(config.logging.format, LogFormat::Json);
    assert_eq!(config.database_url(), "mysql://root@127.0.0.1:3306/test");
    assert_eq!(config.database_backend(), DatabaseBackend::MySql);
    assert_eq!(config.redis.url.as_deref(), Some("redis://127.0.0.1:6379"));
    // Without a URL, the SQLite default follows data_dir.
    let sqlite = load_str(file, env(&[])).unwrap();
    assert_eq!(sqlite.database_url(), "sqlite:///var/lib/spgw/sp-gateway.db?mode=rwc");
}

#[test]
fn cli_path_beats_config_path_env() {
    let cli = temp_file("cli", r#"{"server": {"port": 1111}}"#);
    let other = temp_file("envpath", r#"{"server": {"port": 2222}}"#);
    let other_path = other.display().to_string();
    let vars = env(&[("CONFIG_PATH", &other_path)]);
    assert_eq!(load(Some(&cli), vars.clone()).unwrap().server.port, 1111);
    assert_eq!(load(None, vars.clone()).unwrap().server.port, 2222);
    // Env overrides apply to a file read from disk too.
    let with_override = vars.into_iter().chain(env(&[("SPGW__SERVER__PORT", "3333")]));
    assert_eq!(load(None, with_override).unwrap().server.port, 3333);
}

#[test]
fn missing_or_malformed_file_names_the_file() {
    let missing = PathBuf::from("/nonexistent/spgw.json");
    let err = load(Some(&missing), env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/spgw.json"), "{err}");

    let bad = temp_file("malformed", "{\n  // ok\n  \"server\": {\"port\": 80,,}\n}");
    let err = load(Some(&bad), env(&[])).unwrap_err().to_string();
    assert!(err.contains("sp-gateway.json") && err.contains("line 3"), "{err}");
    assert!(error("[1, 2]", &[]).contains("top level must be a JSON object"));
}

#[test]
fn errors_name_their_key() {
    // (file, environment, expected part of the one-line error)
    let cases: &[Case] = &[
        (r#"{"server": {"prot": 80}}"#, &[], "invalid configuration: server.prot: unknown field `prot`"),
        (r#"{"sever": {}}"#, &[], "invalid configuration: sever: unknown field `sever`"),
        ("{}", &[("SPGW__SERVER__PROT", "80")], "invalid configuration: SPGW__SERVER__PROT: unknown key server.prot"),
        ("{}", &[("SPGW__NOPE__PORT", "80")], "invalid configuration: SPGW__NOPE__PORT: unknown section nope"),
        (
            r#"{"database": {"max_open": 4, "max_idle": 5}}"#,
            &[],
            "invalid configuration: database.max_idle: 5 is more than database.max_open (4)",
        ),
        (r#"{"database": {"max_open": 0, "max_idle": 0}}"#, &[], "invalid configuration: database.max_open: "),
        (r#"{"database": {"url": "postgres://db/x"}}"#, &[], "invalid configuration: database.url: unsupported scheme"),
        (r#"{"database": {"url": "not a url"}}"#, &[], "invalid configuration: database.url: not a valid URL"),
        (r#"{"redis": {"url": "http://cache:6379"}}"#, &[], "invalid configuration: redis.url: unsupported scheme"),
        (r#"{"server": {"port": "abc"}}"#, &[], r#"invalid configuration: server.port: invalid type: string "abc""#),
        ("{}", &[("SPGW__SERVER__PORT", "abc")], "server.port (from SPGW__SERVER__PORT): invalid type: string \"abc\""),
        (r#"{"server": {"port": 70000}}"#, &[], "invalid configuration: server.port: invalid value"),
        (r#"{"security": {"master_key": "c2hvcnQ="}}"#, &[], "invalid configuration: security.master_key: must be 32"),
        (
            &format!(r#"{{"security": {{"master_key": "{HEX_KEY}", "master_key_file": "/k"}}}}"#),
            &[],
            "invalid configuration: security.master_key: set either",
        ),
        (r#"{"logging": {"format": "xml"}}"#, &[], "invalid configuration: logging.format: unknown variant `xml`"),
        (r#"{"logging": {"level": "verbose"}}"#, &[], "invalid configuration: logging.level: unknown level"),
        (
            r#"{"server": {"allowed_origins": ["http://ok", "http://bad/path"]}}"#,
            &[],
            "invalid configuration: server.allowed_origins[1]: must be an origin",
        ),
        (
            "{}",
            &[("SPGW__SERVER__ALLOWED_ORIGINS", "http://ok,ftp://no")],
            "server.allowed_origins[1] (from SPGW__SERVER__ALLOWED_ORIGINS): unsupported scheme",
        ),
        (r#"{"limits": {"max_page_size": 10}}"#, &[], "invalid configuration: limits.max_page_size: 10 is less"),
        (r#"{"server": {"request_timeout_secs": 0}}"#, &[], "invalid configuration: server.request_timeout_secs:"),
        (
            "{}",
            &[("SPGW__SERVER__WORKER_THREADS", "100000")],
            "server.worker_threads (from SPGW__SERVER__WORKER_THREADS): must be at most 1024",
        ),
    ];
    for (file, vars, expected) in cases {
        let err = error(file, vars);
        assert!(err.contains(expected), "for {file} {vars:?}\n  got: {err}\n want: {expected}");
    }
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let file =
        format!(r#"{{"security": {{"master_key": "{HEX_KEY}"}}, "database": {{"url": "mysql://u:pw-123@db/x"}}}}"#);
    let config = load_str(&file, env(&[])).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains(HEX_KEY) && !shown.contains("pw-123"), "{shown}");
    match config.master_key_source() {
        MasterKeySource::Inline(key) => assert_eq!(key.expose(), HEX_KEY),
        other => panic!("expected an inline key, got {other:?}"),
    }
    let err = error(r#"{"database": {"url": "mysql://u:pw-123@db:99999/x"}}"#, &[]);
    assert!(!err.contains("pw-123"), "{err}");
}

#[test]
fn master_key_from_file_or_env() {
    let config = load_str(r#"{"security": {"master_key_file": "/run/secrets/k"}}"#, env(&[])).unwrap();
    assert_eq!(config.master_key_source(), MasterKeySource::File(PathBuf::from("/run/secrets/k")));
    // An all-digit hex key from the environment stays a string.
    let digits = "1".repeat(64);
    let config = load_str("", env(&[("SPGW__SECURITY__MASTER_KEY", &digits)])).unwrap();
    assert_eq!(config.security.master_key.as_ref().map(|k| k.expose()), Some(digits.as_str()));
    // `null` from the environment unsets a key the file set.
    let config = load_str(r#"{"database": {"url": "mysql://db/x"}}"#, env(&[("SPGW__DATABASE__URL", "null")])).unwrap();
    assert_eq!(config.database.url, None);
}
