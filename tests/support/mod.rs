//! A real `buurtbord serve` on a free loopback port, on a copy of the sample content with a
//! fresh data folder, and a small HTTP client that does not follow redirects, so tests see
//! every 303 and cookie as a browser would receive them.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root, where the sample content and the default theme live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Server {
    child: Child,
    pub port: u16,
    pub content: PathBuf,
    pub out: PathBuf,
    pub data: PathBuf,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// A response's status, body and the headers tests look at.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
}

impl Server {
    /// Starts the server on a copy of the sample content with a data folder that does not
    /// exist yet, as on a fresh clone.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        copy_dir(&repo().join("content"), &content);
        let data = dir.path().join("data");
        Server::start_in(dir, content, data, &[])
    }

    /// Adds a moderator with the CLI, then starts the server.
    pub fn start_with_moderator(email: &str, password: &str) -> Server {
        Server::start_with_moderator_and_env(email, password, &[])
    }

    /// The same, with extra environment variables for the server process.
    pub fn start_with_moderator_and_env(
        email: &str,
        password: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        copy_dir(&repo().join("content"), &content);
        let data = dir.path().join("data");
        let mut add = Command::new(env!("CARGO_BIN_EXE_buurtbord"))
            .args(["moderator", "add", email, "--password-stdin", "--data"])
            .arg(&data)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
        assert!(add.wait().unwrap().success(), "moderator add failed");
        Server::start_in(dir, content, data, env)
    }

    fn start_in(
        dir: tempfile::TempDir,
        content: PathBuf,
        data: PathBuf,
        env: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        let out = dir.path().join("public");
        let child = Command::new(env!("CARGO_BIN_EXE_buurtbord"))
            .arg("serve")
            .arg("--port")
            .arg(port.to_string())
            .arg("--content")
            .arg(&content)
            .arg("--theme")
            .arg(repo().join("themes/default"))
            .arg("--out")
            .arg(&out)
            .arg("--data")
            .arg(&data)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        let server = Server { child, port, content, out, data, agent: config.into(), _dir: dir };
        server.wait_until_ready();
        server
    }

    fn wait_until_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.get("/").status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("buurtbord serve did not answer on port {} within 60 s", self.port);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_with("", path)
    }

    pub fn get_with(&self, cookie: &str, path: &str) -> Reply {
        let mut request = self.agent.get(&self.url(path));
        if !cookie.is_empty() {
            request = request.header("Cookie", cookie);
        }
        reply(request.call().unwrap())
    }

    pub fn post_with(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        let mut request = self.agent.post(&self.url(path));
        if !cookie.is_empty() {
            request = request.header("Cookie", cookie);
        }
        reply(request.send_form(form.iter().copied()).unwrap())
    }

    /// Fills the form as a resident would (waiting the few seconds the spam check wants)
    /// and returns the queued post's id from the confirmation address.
    pub fn submit_post(&self, title: &str, email: &str, phone: &str) -> String {
        let location = self.submit_post_to_confirmation(title, email, phone);
        let path = location.split('?').next().unwrap();
        path.rsplit('/').next().unwrap().to_owned()
    }

    /// The same, returning the confirmation's address (with the management token) as the
    /// 303 gave it.
    pub fn submit_post_to_confirmation(&self, title: &str, email: &str, phone: &str) -> String {
        let form = self.get("/plaatsen");
        assert_eq!(form.status, 200);
        let token = field_value(&form.body, "form_token").expect("form token");
        let nonce = field_value(&form.body, "submission_id").expect("submission id");
        std::thread::sleep(Duration::from_millis(3100));
        let sent = self.post_with(
            "",
            "/plaatsen",
            &[
                ("kind", "request"),
                ("title", title),
                ("category", "tuin"),
                ("municipality", "huizen"),
                ("body", "Mijn heg is te hoog geworden.\n\nWie kan een uurtje helpen?"),
                ("recurring", "once"),
                ("display_name", "Truus"),
                ("email", email),
                ("phone", phone),
                ("consent", "yes"),
                ("website", ""),
                ("form_token", &token),
                ("submission_id", &nonce),
            ],
        );
        assert_eq!(sent.status, 303, "submission refused: {}", sent.body);
        sent.location.expect("303 has a Location")
    }

    /// Logs in and returns the session cookie as a `Cookie` header value.
    pub fn login(&self, email: &str, password: &str) -> String {
        let reply =
            self.post_with("", "/beheer/inloggen", &[("email", email), ("password", password)]);
        assert_eq!(reply.status, 303, "login failed: {}", reply.body);
        let cookie = reply.set_cookie.first().expect("login sets a cookie");
        cookie.split(';').next().unwrap().to_owned()
    }

    /// The text of every message in the outbox, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.data.join("outbox")) else { return vec![] };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let header = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let location = header("location").into_iter().next();
    let set_cookie = header("set-cookie");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status, body, location, set_cookie }
}

/// The value of the first `<input name="…" value="…">` with that name, HTML-unescaped.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&#x2F;", "/").replace("&quot;", "\""))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Copies the folder `from` with everything in it to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
