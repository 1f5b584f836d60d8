//! Mail through a real SMTP server: with `BUURTBORD_SMTP_HOST` set, `buurtbord serve` sends
//! the poster's approval mail to that server instead of writing it to the outbox. The server
//! is aiosmtpd (from PyPI, installed into `.venv` by scripts/test.sh) on a free loopback
//! port, storing what it receives in a Maildir.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, field_value};

const EMAIL: &str = "moderator@example.org";
const PASSWORD: &str = "een lang genoeg wachtwoord";
const POSTER_EMAIL: &str = "bewoner.smit@example.org";

/// aiosmtpd on `port`, writing each message into `maildir`; killed on drop.
struct SmtpServer(Child);

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> SmtpServer {
        let python = std::env::var("BUURTBORD_TEST_PYTHON").expect(
            "BUURTBORD_TEST_PYTHON is not set: run the tests with scripts/test.sh, which \
             installs aiosmtpd into .venv and sets it",
        );
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd with {python}: {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not listen on port {port}; is it installed in .venv \
                 (scripts/test.sh installs it)?"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer(child)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn received(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else { return vec![] };
    entries.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect()
}

/// A resident posts (with an e-mail address) and the moderator approves it in /beheer.
fn post_and_approve(server: &Server) -> support::Reply {
    let id = server.submit_post("Wie helpt met mijn computer?", POSTER_EMAIL, "");
    let cookie = server.login(EMAIL, PASSWORD);
    let item = server.get_with(&cookie, &format!("/beheer/bericht/{id}"));
    let csrf = field_value(&item.body, "csrf").expect("the decision form has a CSRF token");
    server.post_with(&cookie, &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", &csrf)])
}

#[test]
fn approval_mail_goes_through_the_configured_smtp_server_not_the_outbox() {
    // Guards the mailer choice by configuration: SMTP when a host is set, and the message
    // arrives at the server with the poster as recipient and the site's sender.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    // aiosmtpd creates a Maildir's sub-folders only when the folder itself is new.
    let maildir = dir.path().join("maildir");
    let _smtp = SmtpServer::start(port, &maildir);
    let port = port.to_string();
    let env = [
        ("BUURTBORD_SMTP_HOST", "127.0.0.1"),
        ("BUURTBORD_SMTP_PORT", port.as_str()),
        ("BUURTBORD_SMTP_SECURITY", "plain"),
    ];
    let server = Server::start_with_moderator_and_env(EMAIL, PASSWORD, &env);

    let approved = post_and_approve(&server);
    assert_eq!(approved.status, 303, "{}", approved.body);

    // The receipt of the post and the approval.
    let started = Instant::now();
    let mails = loop {
        let mails = received(&maildir);
        if mails.len() >= 2 || started.elapsed() > Duration::from_secs(20) {
            break mails;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(mails.len(), 2, "the receipt and the approval mail reached the SMTP server");
    assert!(mails[0].contains(&format!("To: {POSTER_EMAIL}")), "{}", mails[0]);
    // The sample site's base URL is a loopback address, so the default sender is used.
    assert!(mails[0].contains("From: noreply@localhost"), "{}", mails[0]);
    assert!(server.outbox().is_empty(), "nothing went to the outbox");
}

#[test]
fn mail_the_smtp_server_did_not_take_is_kept_and_sent_once_it_is_back() {
    // Guards the retry: with the SMTP server down, an approval still succeeds and its mail
    // (the poster's only copy of their private link) waits under data/mail-retry/; once
    // the server listens, serve's retry delivers it and the kept file is gone.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let port_text = port.to_string();
    let env = [
        ("BUURTBORD_SMTP_HOST", "127.0.0.1"),
        ("BUURTBORD_SMTP_PORT", port_text.as_str()),
        ("BUURTBORD_SMTP_SECURITY", "plain"),
        ("BUURTBORD_MAIL_RETRY_SECONDS", "1"),
    ];
    let server = Server::start_with_moderator_and_env(EMAIL, PASSWORD, &env);
    let approved = post_and_approve(&server);
    assert_eq!(approved.status, 303, "the approval does not wait for mail: {}", approved.body);

    let kept = || -> Vec<String> {
        std::fs::read_dir(server.data.join("mail-retry"))
            .map(|entries| {
                let names = entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
                names.filter(|n| n.ends_with(".json")).collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(kept().len(), 2, "the receipt and the approval mail are kept: {:?}", kept());
    let file = std::fs::read_to_string(server.data.join("mail-retry").join(&kept()[0])).unwrap();
    assert!(file.contains(POSTER_EMAIL), "{file}");

    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let _smtp = SmtpServer::start(port, &maildir);
    let started = Instant::now();
    while (received(&maildir).len() < 2 || !kept().is_empty())
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mails = received(&maildir);
    assert_eq!(mails.len(), 2, "each kept mail arrived once");
    for mail in &mails {
        assert!(mail.contains(&format!("To: {POSTER_EMAIL}")), "{mail}");
        assert!(mail.contains("/beheer-bericht/"), "with the private link: {mail}");
    }
    assert!(kept().is_empty(), "the kept file is removed once sent");
}
