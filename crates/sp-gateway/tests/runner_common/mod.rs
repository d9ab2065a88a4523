//! Support for the runner tests: a real OpenSSH server on 127.0.0.1 with a
//! throwaway host key and user key, a git repository made from
//! `tests/fixtures/ssh/repo`, and helpers to set up a codebase and wait for runs.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::common::{Client, tempdir};

const SSHD: &str = "/usr/sbin/sshd";

/// Whether the machine can run the SSH tests; without sshd they skip, unless `CI` is set.
pub fn sshd_available() -> bool {
    if Path::new(SSHD).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {SSHD} is missing: scripts/test installs openssh-server");
    }
    eprintln!("skipping: {SSHD} is missing (apt-get install openssh-server, or run scripts/test)");
    false
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running sshd on loopback; killed and its files removed on drop.
pub struct Sshd {
    pub dir: tempdir::Dir,
    pub port: u16,
    pub user: String,
    /// The user's private key (OpenSSH PEM), for the codebase's credential.
    pub private_key: String,
    child: Option<Child>,
}

impl Sshd {
    /// Generates the keys, writes and checks the config, and starts sshd on a free port.
    pub fn start() -> Sshd {
        let dir = tempdir::Dir::new();
        let d = dir.0.clone();
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "spgw-test-user", "-f"])
            .arg(d.join("user_key")));
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
        let private_key = std::fs::read_to_string(d.join("user_key")).unwrap();
        let user = run(Command::new("id").arg("-un")).trim().to_string();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut s = Sshd { dir, port: 0, user, private_key, child: None };
        s.new_host_key();
        s.spawn();
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }

    /// Replaces the host key (the next start presents a different one).
    pub fn new_host_key(&self) {
        let _ = std::fs::remove_file(self.path("host_key"));
        let _ = std::fs::remove_file(self.path("host_key.pub"));
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(self.path("host_key")));
    }

    /// The host key's fingerprint as OpenSSH prints it (`SHA256:...`).
    pub fn host_fingerprint(&self) -> String {
        let out = run(Command::new("ssh-keygen").args(["-l", "-E", "sha256", "-f"]).arg(self.path("host_key.pub")));
        out.split_whitespace().nth(1).unwrap().to_string()
    }

    fn spawn(&mut self) {
        for _ in 0..5 {
            if self.port == 0 {
                self.port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            }
            let config = format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {hk}\nPidFile {pid}\nAuthorizedKeysFile {ak}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nMaxSessions 64\nMaxStartups 64\nPrintMotd no\nLogLevel VERBOSE\n",
                port = self.port,
                hk = self.path("host_key").display(),
                pid = self.path("sshd.pid").display(),
                ak = self.path("authorized_keys").display(),
            );
            std::fs::write(self.path("sshd_config"), config).unwrap();
            run(Command::new(SSHD).arg("-t").arg("-f").arg(self.path("sshd_config")));
            let child = Command::new(SSHD)
                .arg("-D")
                .arg("-f")
                .arg(self.path("sshd_config"))
                .arg("-E")
                .arg(self.path("sshd.log"))
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            self.child = Some(child);
            if self.wait_banner() {
                return;
            }
            self.stop();
            self.port = 0; // the port was taken meanwhile: try another
        }
        panic!("sshd did not start; log:\n{}", std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default());
    }

    /// Waits for the SSH banner (no sleeping in a loop without a condition).
    fn wait_banner(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                return false;
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 8];
                if s.read_exact(&mut buf).is_ok() && &buf[..4] == b"SSH-" {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Restarts on the same port (with whatever host key is on disk now).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A bare git repository holding the fixture project, and a workspace root, in one temp dir.
pub struct Fixture {
    pub dir: tempdir::Dir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempdir::Dir::new();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ssh/repo");
        let work = dir.0.join("work");
        run(Command::new("cp").arg("-r").arg(&src).arg(&work));
        let git = |args: &[&str]| {
            run(Command::new("git")
                .args([
                    "-c",
                    "user.name=Fixture",
                    "-c",
                    "user.email=fixture@example.com",
                    "-c",
                    "init.defaultBranch=main",
                ])
                .args(args)
                .current_dir(&work))
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "fixture: lint passes, test fails, build passes"]);
        run(Command::new("git").args(["clone", "-q", "--bare"]).arg(&work).arg(dir.0.join("repo.git")));
        std::fs::create_dir_all(dir.0.join("ws")).unwrap();
        Fixture { dir }
    }

    pub fn repo_url(&self) -> String {
        self.dir.0.join("repo.git").display().to_string()
    }

    pub fn workspace_root(&self) -> String {
        self.dir.0.join("ws").display().to_string()
    }

    /// The checkout of codebase `id` on the "runner host" (this machine).
    pub fn checkout(&self, codebase_id: i64) -> PathBuf {
        self.dir.0.join("ws").join(format!("codebase-{codebase_id}"))
    }
}

/// Creates a project, the SSH key credential and a codebase pointed at `sshd`; returns the codebase id.
pub async fn codebase(client: &Client, sshd: &Sshd, fx: &Fixture, name: &str) -> i64 {
    let (s, p) = client.post("/api/v1/add/project", json!({"name": format!("{name}-project")})).await;
    assert_eq!(s, 201, "{p}");
    codebase_in(client, p["id"].as_i64().unwrap(), sshd, fx, name).await
}

/// As [`codebase`], in an existing project.
pub async fn codebase_in(client: &Client, project: i64, sshd: &Sshd, fx: &Fixture, name: &str) -> i64 {
    let (s, c) = client
        .post(
            "/api/v1/add/credential",
            json!({"project_id": project, "name": "runner-key", "credential_type": "ssh_key", "secret": sshd.private_key}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, cb) = client
        .post(
            "/api/v1/add/codebase",
            json!({
                "project_id": project, "name": name, "repo_url": fx.repo_url(), "preferred_stack": "shell scripts",
                "runtime_config": {
                    "runner": {"host": "127.0.0.1", "port": sshd.port, "ssh_user": sshd.user, "workspace_root": fx.workspace_root()},
                    "commands": {"lint": "sh lint.sh", "test": "sh test.sh", "build": "sh build.sh"}
                }
            }),
        )
        .await;
    assert_eq!(s, 201, "{cb}");
    cb["id"].as_i64().unwrap()
}

/// Queues a run and returns it.
pub async fn queue(client: &Client, codebase: i64, body: Value) -> Value {
    let (s, run) = client.post(&format!("/api/v1/codebases/{codebase}/tasks"), body).await;
    assert_eq!(s, 201, "{run}");
    assert_eq!(run["status"], "queued");
    run
}

/// Polls a run until `done(run)` holds (60 s at most).
pub async fn wait_for(client: &Client, codebase: i64, run_id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, run) = client.get(&format!("/api/v1/codebases/{codebase}/runs/{run_id}")).await;
        assert_eq!(s, 200, "{run}");
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "run {run_id} never became {what}: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the run is over.
pub async fn finished(client: &Client, codebase: i64, run_id: i64) -> Value {
    wait_for(client, codebase, run_id, "finished", |r| !matches!(r["status"].as_str(), Some("queued" | "running")))
        .await
}

/// The run's whole log.
pub async fn log_text(client: &Client, codebase: i64, run_id: i64) -> String {
    let (s, v) = client.get(&format!("/api/v1/codebases/{codebase}/runs/{run_id}/log")).await;
    assert_eq!(s, 200, "{v}");
    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
}

/// Whether a process whose command line contains `needle` runs on this machine.
pub fn process_running(needle: &str) -> bool {
    let out = Command::new("pgrep").arg("-f").arg(needle).output().unwrap();
    out.status.success()
}
