//! The whole moderation path through a real `buurtbord serve` process on a free loopback
//! port: a resident submits over HTTP, the post waits in the queue, a moderator logs in at
//! /beheer and approves with the CSRF token, and the post's page, the listings and feeds
//! that should show it, and the poster's mail in the outbox all exist. Also: the second
//! approval of the same post is answered with who approved it first, the content file
//! holds no contact details, and the poster ends the post with the link from the
//! confirmation page.

mod support;

use std::time::Duration;

use support::{Server, field_value};

const EMAIL: &str = "moderator@example.org";
const PASSWORD: &str = "een lang genoeg wachtwoord";
const POSTER_EMAIL: &str = "bewoner.jansen@example.org";
const POSTER_PHONE: &str = "06-12345678";

#[test]
fn submitted_post_is_live_after_one_approval_in_beheer() {
    let server = Server::start_with_moderator(EMAIL, PASSWORD);
    let title = "Wie helpt mij met de tuin? 🌷 & meer";

    let id = server.submit_post(title, POSTER_EMAIL, POSTER_PHONE);
    let cookie = server.login(EMAIL, PASSWORD);
    let queue = server.get_with(&cookie, "/beheer");
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("Wie helpt mij met de tuin?"), "queue lists the post");
    let item = server.get_with(&cookie, &format!("/beheer/bericht/{id}"));
    let csrf = field_value(&item.body, "csrf").expect("the decision form carries a CSRF token");
    let preview = server.get_with(&cookie, &format!("/beheer/bericht/{id}/voorbeeld"));
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Wie helpt mij met de tuin?"), "the preview is the post page");
    assert!(!preview.body.contains(POSTER_EMAIL), "the preview shows what the public sees");

    let approved =
        server.post_with(&cookie, &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", &csrf)]);
    assert_eq!(approved.status, 303, "{}", approved.body);

    let file = std::fs::read_to_string(server.content.join(format!("posts/{id}.md"))).unwrap();
    assert!(!file.contains(POSTER_EMAIL) && !file.contains("12345678"), "{file}");
    let slug = file
        .lines()
        .find_map(|l| l.strip_prefix("slug: "))
        .map(|s| s.trim_matches('"').to_owned())
        .expect("the publisher freezes the slug");
    let page = server.get(&format!("/bericht/{slug}/"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Wie helpt mij met de tuin? 🌷 &amp; meer"));
    for listing in ["/hulpvragen/", "/gemeente/huizen/", "/categorie/tuin/", "/"] {
        let body = server.get(listing).body;
        assert!(body.contains(&format!("/bericht/{slug}/")), "{listing} links the post");
    }
    for feed in ["/atom.xml", "/hulpvragen/atom.xml", "/gemeente/huizen/atom.xml"] {
        assert!(server.get(feed).body.contains(&slug), "{feed} has the post");
    }
    for public in ["/atom.xml", "/gemeente/huizen/", &format!("/bericht/{slug}/")] {
        assert!(!server.get(public).body.contains(POSTER_EMAIL), "{public} has no address");
    }

    let mails = server.outbox();
    assert_eq!(mails.len(), 2, "two mails, to the poster: received, then online");
    assert!(mails.iter().all(|m| m.contains(&format!("To: {POSTER_EMAIL}"))), "{mails:?}");
    assert!(mails[0].contains("Subject: We hebben uw bericht ontvangen"), "{}", mails[0]);
    assert!(mails[0].contains("/beheer-bericht/"), "the receipt has the private link");
    assert!(mails[1].contains("Subject: Uw bericht staat online"), "{}", mails[1]);

    let again =
        server.post_with(&cookie, &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", &csrf)]);
    assert_eq!(again.status, 409);
    assert!(again.body.contains(EMAIL), "the second approval learns who was first");
    let log = server.get_with(&cookie, "/beheer/logboek");
    assert!(log.body.contains("goedgekeurd") && log.body.contains(&id), "{}", log.body);
}

#[test]
fn poster_marks_helped_from_the_confirmation_link_and_the_post_leaves_its_listing() {
    // Guards the poster's journey without an account: submit, a moderator approves in
    // /beheer, the management link from the confirmation page opens the post's page, one
    // press on "Ik ben geholpen" thanks the poster and takes the post off its listing.
    let server = Server::start_with_moderator(EMAIL, PASSWORD);
    let confirmation = server.submit_post_to_confirmation(
        "Wie snoeit mijn heg in Huizen?",
        POSTER_EMAIL,
        POSTER_PHONE,
    );
    let id = confirmation.split('?').next().unwrap().rsplit('/').next().unwrap().to_owned();
    let cookie = server.login(EMAIL, PASSWORD);
    let item = server.get_with(&cookie, &format!("/beheer/bericht/{id}"));
    let csrf = field_value(&item.body, "csrf").expect("the decision form carries a CSRF token");
    let approved =
        server.post_with(&cookie, &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", &csrf)]);
    assert_eq!(approved.status, 303, "{}", approved.body);
    let file = std::fs::read_to_string(server.content.join(format!("posts/{id}.md"))).unwrap();
    let slug = file
        .lines()
        .find_map(|l| l.strip_prefix("slug: "))
        .map(|s| s.trim_matches('"').to_owned())
        .expect("the publisher freezes the slug");
    assert!(server.get("/gemeente/huizen/").body.contains(&format!("/bericht/{slug}/")));

    let thanks = server.get(confirmation.trim_start_matches(&server.url("")));
    let link = thanks
        .body
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("/beheer-bericht/"))
        .expect("the confirmation page gives the management link")
        .replace("&amp;", "&");
    let page = server.get(link.trim_start_matches(&server.url("")));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Uw bericht staat op de site."), "{}", page.body);
    let token = field_value(&page.body, "token").expect("the forms carry the token");
    let helped = server.post_with(
        "",
        &format!("/beheer-bericht/{id}/geholpen"),
        &[("token", &token), ("zeker", "ja")],
    );
    assert_eq!(helped.status, 303, "{}", helped.body);
    let back = helped.location.expect("back to the management page");
    let after = server.get(&back);
    assert!(after.body.contains("Fijn dat u geholpen bent!"), "{}", after.body);

    assert!(!server.get("/gemeente/huizen/").body.contains(&slug), "the listing drops it");
    assert_eq!(server.get(&format!("/bericht/{slug}/")).status, 404);
    assert!(!server.content.join(format!("posts/{id}.md")).exists());
}

#[test]
fn approval_without_the_csrf_token_is_refused_and_publishes_nothing() {
    let server = Server::start_with_moderator(EMAIL, PASSWORD);
    let id = server.submit_post("Boodschappen op dinsdag", POSTER_EMAIL, POSTER_PHONE);
    let cookie = server.login(EMAIL, PASSWORD);
    for csrf in ["", "niet-het-goede-token"] {
        let refused = server.post_with(
            &cookie,
            &format!("/beheer/bericht/{id}/goedkeuren"),
            &[("csrf", csrf)],
        );
        assert_eq!(refused.status, 403);
    }
    let without_login =
        server.post_with("", &format!("/beheer/bericht/{id}/goedkeuren"), &[("csrf", "x")]);
    assert_eq!(without_login.status, 303, "no session: sent to the login page");
    assert!(!server.content.join(format!("posts/{id}.md")).exists());
    std::thread::sleep(Duration::from_millis(10));
    let mails = server.outbox();
    assert_eq!(mails.len(), 1, "only the receipt of the post, no approval mail");
    assert!(mails[0].contains("Subject: We hebben uw bericht ontvangen"), "{}", mails[0]);
}

#[test]
fn moderator_who_turns_on_the_notice_gets_a_mail_per_new_post_without_poster_data() {
    // Guards the opt-in notice: off by default, switched on in /beheer/instellingen with
    // the CSRF token, then one mail per new post that names nothing of the post or poster.
    let server = Server::start_with_moderator(EMAIL, PASSWORD);
    let to_moderator = |mails: Vec<String>| -> Vec<String> {
        mails.into_iter().filter(|m| !m.contains(&format!("To: {POSTER_EMAIL}"))).collect()
    };
    server.submit_post("Hulp bij de boodschappen", POSTER_EMAIL, POSTER_PHONE);
    assert!(to_moderator(server.outbox()).is_empty(), "nobody asked for the notice yet");

    let cookie = server.login(EMAIL, PASSWORD);
    let settings = server.get_with(&cookie, "/beheer/instellingen");
    assert_eq!(settings.status, 200);
    assert!(!settings.body.contains(" checked"), "the notice starts off");
    let csrf = field_value(&settings.body, "csrf").expect("the settings form has a CSRF token");
    let refused = server.post_with(&cookie, "/beheer/instellingen", &[("mail", "ja")]);
    assert_eq!(refused.status, 403, "no CSRF token, no change");
    let saved =
        server.post_with(&cookie, "/beheer/instellingen", &[("csrf", &csrf), ("mail", "ja")]);
    assert_eq!(saved.status, 303);
    assert!(server.get_with(&cookie, "/beheer/instellingen").body.contains(" checked"));

    let title = "Wie rijdt mij naar het ziekenhuis";
    server.submit_post(title, POSTER_EMAIL, POSTER_PHONE);
    let mails = to_moderator(server.outbox());
    assert_eq!(mails.len(), 1, "one notice, to the moderator");
    assert!(mails[0].contains(&format!("To: {EMAIL}")), "{}", mails[0]);
    assert!(mails[0].contains("/beheer"), "the notice links the queue");
    for private in [POSTER_EMAIL, "12345678", title] {
        assert!(!mails[0].contains(private), "the notice holds no {private}");
    }
}

#[test]
fn serve_starts_without_a_data_folder_and_its_form_link_accepts_the_first_press() {
    // Guards the README's first command on a fresh clone (no data/ yet), and the home
    // page's way in: its form link leads to a form that is accepted at the first press.
    let server = Server::start();
    let home = server.get("/");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Vraag om hulp"), "the home page offers a way to ask for help");
    let link = home
        .body
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("kind=request"))
        .expect("a link to the request form")
        .replace("&amp;", "&");
    let form = server.get(&link);
    assert_eq!(form.status, 200);
    let token = field_value(&form.body, "form_token").expect("the form carries a signed token");
    let nonce = field_value(&form.body, "submission_id").expect("and a one-time id");
    std::thread::sleep(Duration::from_millis(3100));
    let sent = server.post_with(
        "",
        "/plaatsen",
        &[
            ("form_token", &token),
            ("submission_id", &nonce),
            ("kind", "request"),
            ("title", "Wie helpt mij met boodschappen?"),
            ("body", "Ik kan niet goed lopen."),
            ("category", "boodschappen"),
            ("municipality", "huizen"),
            ("display_name", "Truus"),
            ("email", POSTER_EMAIL),
            ("consent", "yes"),
        ],
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let confirmation = sent.location.expect("a confirmation address");
    assert!(confirmation.contains("/bedankt/"), "{confirmation}");
    // The private link names the address this server answers on, not site.yaml's port.
    let page = server.get(confirmation.trim_start_matches(&server.url("")));
    let own = format!("http://127.0.0.1:{}/beheer-bericht/", server.port);
    assert!(page.body.contains(&own), "{}", page.body);
}
