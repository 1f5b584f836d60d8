//! The fixture: a temporary content folder with a small `site.yaml`, posts and pages,
//! built with the real default theme into a temporary `out` folder and read back.
//! Every build runs at a fixed "now", never the clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use generator::{BuildError, BuildOptions, BuildReport};
use tempfile::TempDir;

/// The handed cases, shared by all engineers.
pub const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases");
/// The default theme, the one the site ships with.
pub const THEME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../themes/default");
/// The default build moment: a few days after the handed cases' posts.
pub const NOW: &str = "2025-06-10T12:00:00+02:00";

/// The bytes of a handed case's file, e.g. `case("C01/post-emoji.md")`.
pub fn case(rel: &str) -> Vec<u8> {
    let path = Path::new(CASES).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("handed case {}: {e}", path.display()))
}

/// An RFC 3339 moment, for `now`.
pub fn at(rfc3339: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(rfc3339).expect("a valid RFC 3339 moment")
}

/// A content folder under construction, and the output it builds to.
pub struct Fixture {
    root: TempDir,
    page_size: usize,
    base_url: String,
    now: DateTime<FixedOffset>,
}

impl Fixture {
    /// A site with the municipalities Åsby (`asby`) and Huizen, the categories `garden`
    /// and `moving`, a privacy page (the form links to it), and no posts.
    pub fn new() -> Fixture {
        let root = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir_all(root.path().join("content/posts")).unwrap();
        std::fs::create_dir_all(root.path().join("content/pages")).unwrap();
        let fixture =
            Fixture { root, page_size: 20, base_url: "https://example.org/".into(), now: at(NOW) };
        fixture.write_site().page("privacy", "Privacy", "Wij bewaren zo weinig mogelijk.")
    }

    pub fn page_size(mut self, n: usize) -> Fixture {
        self.page_size = n;
        self.write_site()
    }

    pub fn base_url(mut self, url: &str) -> Fixture {
        self.base_url = url.into();
        self.write_site()
    }

    pub fn now(mut self, rfc3339: &str) -> Fixture {
        self.now = at(rfc3339);
        self
    }

    /// Adds `posts/<name>` with exactly these bytes.
    pub fn post_file(self, name: &str, bytes: impl AsRef<[u8]>) -> Fixture {
        self.write(&format!("posts/{name}"), bytes.as_ref());
        self
    }

    /// Adds a handed case's file to `posts/` under its own file name.
    pub fn case_post(self, rel: &str) -> Fixture {
        let name = Path::new(rel).file_name().unwrap().to_string_lossy().into_owned();
        self.post_file(&name, case(rel))
    }

    /// Adds `posts/<id>.md` from a [`PostFile`].
    pub fn post(self, post: PostFile) -> Fixture {
        let name = format!("{}.md", post.id);
        self.post_file(&name, post.render())
    }

    /// Adds `pages/<slug>.md` with a title and a body; a footer link when it has an order.
    pub fn page(self, slug: &str, title: &str, body: &str) -> Fixture {
        let text = format!("---\ntitle: {}\nmenu_order: 1\n---\n{body}\n", quoted(title));
        self.write(&format!("pages/{slug}.md"), text.as_bytes());
        self
    }

    /// Removes a file from the content folder (relative to it).
    pub fn remove(self, rel: &str) -> Fixture {
        std::fs::remove_file(self.content().join(rel)).expect("the file exists");
        self
    }

    pub fn content(&self) -> PathBuf {
        self.root.path().join("content")
    }

    pub fn out(&self) -> PathBuf {
        self.root.path().join("out")
    }

    /// The folder that holds `content/` and `out/`.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn options(&self, out: &Path) -> BuildOptions {
        BuildOptions {
            content: self.content(),
            theme: PathBuf::from(THEME),
            out: out.to_path_buf(),
            now: self.now,
            // Set explicitly, so a BUURTBORD_BASE_URL in the test's environment cannot
            // change what the fixture builds; it is the same value as in site.yaml.
            base_url: Some(self.base_url.clone()),
        }
    }

    /// Builds into `out/`.
    pub fn try_build(&self) -> Result<BuildReport, BuildError> {
        generator::build(&self.options(&self.out()))
    }

    /// Builds into `out/` and panics with every content error if the build fails.
    pub fn build(self) -> Fixture {
        if let Err(e) = self.try_build() {
            panic!("build failed: {}", describe(&e));
        }
        self
    }

    /// Builds, expects bad content, and returns each problem as `path:line: reason`.
    pub fn build_errors(&self) -> Vec<String> {
        match self.try_build() {
            Ok(_) => panic!("the build succeeded, but bad content was expected"),
            Err(BuildError::Content(errors)) => errors.iter().map(ToString::to_string).collect(),
            Err(other) => panic!("expected content errors, got {other}"),
        }
    }

    /// The text of a built file; a path ending in `/` means its `index.html`.
    pub fn read(&self, site_path: &str) -> String {
        let path = self.out().join(file_of(site_path));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// True if the built site has the file behind `site_path`.
    pub fn exists(&self, site_path: &str) -> bool {
        self.out().join(file_of(site_path)).is_file()
    }

    /// Every file of the built site: path relative to `out/` (with `/`) to its bytes.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        files_in(&self.out())
    }

    /// Every built HTML file, as (relative path, text).
    pub fn html_files(&self) -> Vec<(String, String)> {
        text_files(&self.out(), ".html")
    }

    /// Every built `atom.xml`, as (relative path, text).
    pub fn feeds(&self) -> Vec<(String, String)> {
        text_files(&self.out(), "atom.xml")
    }

    fn write_site(self) -> Fixture {
        let yaml = format!(
            r#"name: "Buurtbord Test & Co"
tagline: "Buren helpen buren"
base_url: "{base_url}"
time_zone: "Europe/Amsterdam"
region: "Gooi en Vechtstreek"
municipalities:
  - slug: asby
    name: "Åsby"
  - slug: huizen
    name: Huizen
    neighbourhoods: [Oostermeent, Bovenweg]
categories:
  - slug: garden
    label: Tuin
    description: "Hulp in en om de tuin."
  - slug: moving
    label: Verhuizen
    description: "Sjouwen, inpakken en verhuizen."
page_size: {page_size}
expiry:
  default_days: 30
  max_days: 90
submission_endpoint: "/plaatsen"
"#,
            base_url = self.base_url,
            page_size = self.page_size,
        );
        self.write("site.yaml", yaml.as_bytes());
        self
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.content().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

/// A post's front matter and body; every field can be replaced or left out.
#[derive(Clone)]
pub struct PostFile {
    id: String,
    fields: Vec<(String, String)>,
    body: String,
}

/// A valid offer in `garden` in Åsby, dated 1 June 2025 10:00 in Amsterdam.
pub fn post(id: &str) -> PostFile {
    let fields = [
        ("id", quoted(id)),
        ("title", quoted(&format!("Bericht {id}"))),
        ("kind", "offer".into()),
        ("category", "garden".into()),
        ("municipality", "asby".into()),
        ("date", "2025-06-01T10:00:00+02:00".into()),
        ("display_name", quoted("Resident A")),
    ];
    PostFile {
        id: id.into(),
        fields: fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        body: "Korte tekst.\n".into(),
    }
}

impl PostFile {
    /// Sets `key` to a raw YAML value (written as is: quote it yourself when needed).
    pub fn raw(mut self, key: &str, yaml: &str) -> PostFile {
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = yaml.into(),
            None => self.fields.push((key.into(), yaml.into())),
        }
        self
    }

    /// Sets `key` to a string value, always double-quoted.
    pub fn set(self, key: &str, value: &str) -> PostFile {
        self.raw(key, &quoted(value))
    }

    pub fn title(self, title: &str) -> PostFile {
        self.set("title", title)
    }

    pub fn without(mut self, key: &str) -> PostFile {
        self.fields.retain(|(k, _)| k != key);
        self
    }

    pub fn body(mut self, body: &str) -> PostFile {
        self.body = body.into();
        self
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = String::from("---\n");
        for (key, value) in &self.fields {
            text.push_str(&format!("{key}: {value}\n"));
        }
        text.push_str("---\n");
        text.push_str(&self.body);
        text
    }
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
pub fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A build error with every content problem on its own line.
pub fn describe(e: &BuildError) -> String {
    match e {
        BuildError::Content(errors) => {
            errors.iter().map(|e| format!("\n  {e}")).collect::<Vec<_>>().join("")
        }
        other => other.to_string(),
    }
}

/// The file behind a site path: directories mean their `index.html`.
pub fn file_of(site_path: &str) -> String {
    let rel = site_path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.into() }
}

/// Every file under `dir`, by path relative to it, with its bytes.
pub fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn text_files(dir: &Path, suffix: &str) -> Vec<(String, String)> {
    files_in(dir)
        .into_iter()
        .filter(|(path, _)| path.ends_with(suffix))
        .map(|(path, bytes)| (path, String::from_utf8(bytes).expect("output is UTF-8")))
        .collect()
}
