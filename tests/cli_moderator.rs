//! `buurtbord moderator add|list|remove` as an operator runs it, on a real data folder,
//! with the password piped through `--password-stdin`.

use assert_cmd::Command;

fn buurtbord(data: &std::path::Path) -> Command {
    let mut command = Command::cargo_bin("buurtbord").unwrap();
    command.env("RUST_LOG", "warn").arg("moderator").arg("--data").arg(data);
    command
}

fn stdout(command: &mut Command) -> String {
    let output = command.output().unwrap();
    String::from_utf8(output.stdout).unwrap()
}

// Guards the whole account life cycle and its exit codes: add (normalised address), a second
// add of the same address (1), list, remove, a second remove (1).
#[test]
fn moderator_add_list_remove_round_trip_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    buurtbord(&data)
        .args(["add", "Anna@Example.NL", "--password-stdin"])
        .write_stdin("een heel lang wachtwoord\n")
        .assert()
        .success();
    assert!(data.join("queue.sqlite3").is_file());

    let again = buurtbord(&data)
        .args(["add", "anna@example.nl", "--password-stdin"])
        .write_stdin("een ander lang wachtwoord\n")
        .assert()
        .code(1);
    let stderr = String::from_utf8(again.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("already exists"), "{stderr}");

    buurtbord(&data)
        .args(["add", "bram@example.nl", "--password-stdin"])
        .write_stdin("nog een lang wachtwoord")
        .assert()
        .success();
    let listed = stdout(buurtbord(&data).arg("list"));
    let emails: Vec<&str> = listed.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(emails, ["anna@example.nl", "bram@example.nl"], "{listed}");
    assert!(!listed.contains("wachtwoord") && !listed.contains("argon2"), "{listed}");

    buurtbord(&data).args(["remove", "ANNA@example.nl"]).assert().success();
    let removed_again = buurtbord(&data).args(["remove", "anna@example.nl"]).assert().code(1);
    let stderr = String::from_utf8(removed_again.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("no moderator"), "{stderr}");
    assert_eq!(stdout(buurtbord(&data).arg("list")).lines().count(), 1);
}

// Guards the refusals a person can fix: a short password, a bad address and a missing data
// folder exit 1 with a message and store nothing; a missing argument is clap's 2.
#[test]
fn moderator_refusals_exit_1_with_a_message_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let short = buurtbord(&data)
        .args(["add", "anna@example.nl", "--password-stdin"])
        .write_stdin("te kort\n")
        .assert()
        .code(1);
    let stderr = String::from_utf8(short.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("at least 12 characters"), "{stderr}");
    buurtbord(&data)
        .args(["add", "geen adres", "--password-stdin"])
        .write_stdin("een heel lang wachtwoord\n")
        .assert()
        .code(1);
    assert_eq!(stdout(buurtbord(&data).arg("list")), "");

    let elsewhere = dir.path().join("typo");
    buurtbord(&elsewhere).arg("list").assert().code(1);
    assert!(!elsewhere.exists(), "list must not create a data folder");
    buurtbord(&data).arg("add").assert().code(2);
}
