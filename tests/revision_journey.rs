//! The poster's edit of an online post and the figures, through a real `buurtbord serve`:
//! the poster edits with the private link, the post stays as it was on the site, a
//! moderator sees the edit in /beheer as a change of a published post with what changed,
//! approves it with the CSRF token, and the new text is online at the same address. Then
//! the figures page and its CSV count the post.

mod support;

use support::{Server, field_value};

const EMAIL: &str = "moderator@example.org";
const PASSWORD: &str = "een lang genoeg wachtwoord";
const TITLE: &str = "Wie snoeit mijn heg in Huizen?";
const NEW_TITLE: &str = "Wie maait mijn gras in Huizen?";

#[test]
fn edit_of_an_online_post_is_approved_in_beheer_and_keeps_its_address() {
    let server = Server::start_with_moderator(EMAIL, PASSWORD);
    let confirmation = server.submit_post_to_confirmation(TITLE, "truus@example.nl", "");
    let path = confirmation.trim_start_matches(&server.url(""));
    let (id, token) = {
        let (path, query) = path.split_once('?').unwrap();
        (path.rsplit('/').next().unwrap().to_owned(), query.trim_start_matches("token=").to_owned())
    };
    let cookie = server.login(EMAIL, PASSWORD);
    let item = server.get_with(&cookie, &format!("/beheer/bericht/{id}"));
    let csrf = field_value(&item.body, "csrf").expect("a CSRF token");
    server.post_with(&cookie, &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", &csrf)]);
    let file = || std::fs::read_to_string(server.content.join(format!("posts/{id}.md"))).unwrap();
    let slug = file()
        .lines()
        .find_map(|l| l.strip_prefix("slug: "))
        .map(|s| s.trim_matches('"').to_owned())
        .expect("the publisher freezes the slug");

    // The poster edits: the form is the submission form, filled in.
    let form = server.get(&format!("/beheer-bericht/{id}/wijzigen?token={token}"));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(TITLE));
    let body = "Mijn gras is te lang geworden.";
    let edited = server.post_with(
        "",
        &format!("/beheer-bericht/{id}/wijzigen"),
        &[
            ("token", &token),
            ("kind", "request"),
            ("title", NEW_TITLE),
            ("category", "tuin"),
            ("municipality", "huizen"),
            ("body", body),
            ("recurring", "once"),
            ("display_name", "Truus"),
            ("email", "truus@example.nl"),
        ],
    );
    assert_eq!(edited.status, 303, "{}", edited.body);
    let live = server.get(&format!("/bericht/{slug}/"));
    assert!(live.body.contains(TITLE) && !live.body.contains(NEW_TITLE), "the live text stays");

    // The moderator sees it as a change of a published post, with what changed.
    let queue = server.get_with(&cookie, "/beheer");
    assert!(queue.body.contains("Wijziging van een gepubliceerd bericht"), "{}", queue.body);
    let change = server.get_with(&cookie, &format!("/beheer/wijziging/{id}"));
    assert_eq!(change.status, 200, "{}", change.body);
    assert!(change.body.contains(NEW_TITLE) && change.body.contains(body), "{}", change.body);
    let csrf = field_value(&change.body, "csrf").expect("a CSRF token");
    let received = field_value(&change.body, "ontvangen").expect("the shown version");
    let approve = format!("/beheer/wijziging/{id}/goedkeuren");
    let forged = server.post_with(&cookie, &approve, &[("csrf", "fout"), ("ontvangen", &received)]);
    assert_eq!(forged.status, 403, "refused without the CSRF token");
    let approved =
        server.post_with(&cookie, &approve, &[("csrf", &csrf), ("ontvangen", &received)]);
    assert_eq!(approved.status, 303, "{}", approved.body);

    let live = server.get(&format!("/bericht/{slug}/"));
    assert_eq!(live.status, 200);
    assert!(live.body.contains(NEW_TITLE) && live.body.contains(body), "{}", live.body);
    assert!(file().contains("updated: "), "{}", file());

    // The figures count the post, without personal data.
    let figures = server.get_with(&cookie, "/beheer/cijfers");
    assert_eq!(figures.status, 200, "{}", figures.body);
    assert!(figures.body.contains("Cijfers voor de gemeente"));
    assert!(figures.body.contains("<td>Huizen</td><td>Tuin</td><td>1</td>"), "{}", figures.body);
    let csv = server.get_with(&cookie, "/beheer/cijfers.csv");
    assert_eq!(csv.status, 200);
    let body = csv.body.strip_prefix('\u{feff}').expect("a byte order mark for spreadsheets");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "maand;gemeente;categorie;hulpvragen;hulpaanbod;reacties;geholpen");
    assert!(lines[1].ends_with(";Huizen;Tuin;1;0;0;0"), "{}", csv.body);
    assert!(!csv.body.contains("truus"));
    assert_eq!(server.get("/beheer/cijfers.csv").status, 303, "moderators only");
}
