//! SSH with `russh`: key authentication, the host key checked against the
//! fingerprint recorded on first use, commands run in their own process group
//! so a cancel or a timeout can stop everything they started.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle, Msg};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::{Channel, ChannelMsg};

use crate::error::{Result, RunnerError};
use crate::types::SshTarget;

/// How long to wait for TCP, the handshake and authentication together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Checks the server's key against the expected fingerprint; remembers what it saw.
struct HostKeyCheck {
    expected: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let accept = self.expected.as_deref().is_none_or(|e| e == fingerprint);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(fingerprint);
        }
        Ok(accept)
    }
}

/// An authenticated SSH connection; channels (one per command) are opened on it.
pub struct SshSession {
    handle: Handle<HostKeyCheck>,
    /// The server's host key fingerprint (`SHA256:...`).
    pub fingerprint: String,
    /// True when no fingerprint was recorded yet: the caller must record this one (TOFU).
    pub first_use: bool,
}

impl SshSession {
    /// Connects, checks the host key and authenticates with the target's private key.
    pub async fn connect(target: &SshTarget) -> Result<SshSession> {
        let key = russh::keys::decode_secret_key(&target.private_key, None).map_err(|e| {
            RunnerError::Config(format!("the SSH credential is not a usable unencrypted private key ({e})"))
        })?;
        let config = Arc::new(client::Config {
            // No inactivity timeout: a build may print nothing for minutes. Keepalives find dead peers.
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            nodelay: true,
            ..Default::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let check = HostKeyCheck { expected: target.host_key_fingerprint.clone(), seen: seen.clone() };
        let addr = (target.host.clone(), target.port);
        let where_ = format!("{}@{}:{}", target.user, target.host, target.port);
        let connect = async {
            let mut handle = match client::connect(config, addr, check).await {
                Ok(h) => h,
                Err(e) => {
                    let seen = seen.lock().ok().and_then(|s| s.clone());
                    return Err(match (&target.host_key_fingerprint, seen) {
                        (Some(expected), Some(actual)) if *expected != actual => RunnerError::HostKeyMismatch {
                            codebase_id: target.codebase_id,
                            host: format!("{}:{}", target.host, target.port),
                            expected: expected.clone(),
                            actual,
                        },
                        _ => RunnerError::Ssh(format!("cannot connect to {where_}: {e}")),
                    });
                }
            };
            let hash = handle.best_supported_rsa_hash().await?.flatten();
            let auth =
                handle.authenticate_publickey(&target.user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await?;
            if !auth.success() {
                return Err(RunnerError::Ssh(format!("{where_} refused the key of the codebase's SSH credential")));
            }
            Ok(handle)
        };
        let handle = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| RunnerError::Ssh(format!("connecting to {where_} timed out")))??;
        let fingerprint = seen.lock().ok().and_then(|s| s.clone()).unwrap_or_default();
        Ok(SshSession { handle, fingerprint, first_use: target.host_key_fingerprint.is_none() })
    }

    /// Whether the connection is gone.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Starts `command` on a new channel; read its output with [`Channel::wait`].
    pub async fn exec(&self, command: &str) -> Result<Channel<Msg>> {
        let channel = self.handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        Ok(channel)
    }

    /// Runs a short command to completion, feeding `stdin`, keeping at most `cap` bytes of
    /// each output stream (the rest is read and dropped so the command never blocks).
    pub async fn capture(&self, command: &str, stdin: Option<&[u8]>, cap: usize) -> Result<Captured> {
        self.capture_until(command, stdin, cap, None).await
    }

    /// As [`SshSession::capture`], but stops reading at `deadline` (then `timed_out` is set and
    /// the output so far is kept; stopping the command is the caller's business).
    pub async fn capture_until(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        cap: usize,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Captured> {
        let mut channel = self.exec(command).await?;
        if let Some(input) = stdin {
            channel.data(input).await?;
        }
        channel.eof().await?;
        let mut out = Captured::default();
        let never = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let until = tokio::time::sleep_until(deadline.unwrap_or(never));
        tokio::pin!(until);
        loop {
            let msg = tokio::select! {
                m = channel.wait() => m,
                _ = &mut until => {
                    out.timed_out = true;
                    let _ = channel.close().await;
                    break;
                }
            };
            match msg {
                Some(ChannelMsg::Data { data }) => out.stdout_truncated |= push_capped(&mut out.stdout, &data, cap),
                Some(ChannelMsg::ExtendedData { data, .. }) => {
                    out.stderr_truncated |= push_capped(&mut out.stderr, &data, cap)
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => out.exit_code = Some(i64::from(exit_status)),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => out.signal = Some(format!("{signal_name:?}")),
                Some(_) => {}
                None => break,
            }
        }
        Ok(out)
    }

    /// Closes the connection politely.
    pub async fn close(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

/// Appends up to `cap` bytes in total; true when something was dropped.
fn push_capped(buf: &mut Vec<u8>, data: &[u8], cap: usize) -> bool {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
    data.len() > room
}

/// The output of [`SshSession::capture`].
#[derive(Debug, Default)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub exit_code: Option<i64>,
    pub signal: Option<String>,
    /// The deadline passed before the command ended.
    pub timed_out: bool,
}

impl Captured {
    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text, trimmed, for error messages.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// Quotes a string for a POSIX shell: `'...'` with embedded quotes spliced.
pub fn sq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Wraps `command` so it runs in `cwd` in a process group of its own whose id is written to
/// `pidfile` first: [`kill_group`] can then stop the command and everything it started.
/// `setsid -w` keeps the exit status; without `setsid` only the shell's own group is known.
pub fn killable(command: &str, cwd: &str, pidfile: &str) -> String {
    let dir = pidfile.rsplit_once('/').map(|(d, _)| d).filter(|d| !d.is_empty()).unwrap_or("/");
    let inner = format!("echo $$ > {pid}; cd {cwd} || exit 97\n{command}", pid = sq(pidfile), cwd = sq(cwd));
    format!(
        "mkdir -p {dir} || exit 97; if command -v setsid >/dev/null 2>&1; then exec setsid -w sh -c {i}; \
         else exec sh -c {i}; fi",
        dir = sq(dir),
        i = sq(&inner)
    )
}

/// A script that stops the process group recorded in `pidfile`: TERM, up to 3 s grace, KILL.
pub fn kill_group(pidfile: &str) -> String {
    let f = sq(pidfile);
    // Builtin `kill -SIG -PGID` (dash and bash take a negative pid without `--`); run through `sh`
    // so the user's login shell does not matter.
    let script = format!(
        "p=$(cat {f} 2>/dev/null) || exit 0; [ -n \"$p\" ] || exit 0; \
         kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null; i=0; \
         while [ $i -lt 30 ] && kill -0 -$p 2>/dev/null; do sleep 0.1; i=$((i+1)); done; \
         kill -KILL -$p 2>/dev/null; rm -f {f}; exit 0"
    );
    format!("sh -c {}", sq(&script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_a_shell() {
        for s in ["plain", "it's", "a b  c", "$(rm -rf /)", "`x`", "\"q\"", "semi;colon", "new\nline"] {
            let out = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {}", sq(s))).output().unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }

    #[test]
    fn killable_writes_its_group_and_keeps_the_exit_status() {
        let dir = std::env::temp_dir().join(format!("spgw-runner-{}", uuid::Uuid::new_v4().simple()));
        let pidfile = dir.join("x.pid").to_string_lossy().into_owned();
        let script = killable("echo here; exit 3", "/", &pidfile);
        let out = std::process::Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "here\n");
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        assert!(pid > 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn kill_group_stops_the_whole_group() {
        let dir = std::env::temp_dir().join(format!("spgw-runner-{}", uuid::Uuid::new_v4().simple()));
        let pidfile = dir.join("k.pid").to_string_lossy().into_owned();
        let marker = dir.join("survived").to_string_lossy().into_owned();
        let script = killable(&format!("(sleep 3; touch {}) & sleep 30", sq(&marker)), "/", &pidfile);
        let mut child = std::process::Command::new("sh").arg("-c").arg(&script).spawn().unwrap();
        let start = std::time::Instant::now();
        while !std::path::Path::new(&pidfile).exists() {
            assert!(start.elapsed() < Duration::from_secs(5), "pidfile never written");
            std::thread::sleep(Duration::from_millis(20));
        }
        let k = std::process::Command::new("sh").arg("-c").arg(kill_group(&pidfile)).status().unwrap();
        assert!(k.success());
        child.wait().unwrap();
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(3500));
        assert!(!std::path::Path::new(&marker).exists(), "a background child outlived the kill");
        let _ = std::fs::remove_dir_all(dir);
    }
}
