//! Approval to live with 10,000 published posts (a benchmark, not a test): the time from
//! `LocalPublisher::publish` of one new post until every file of the site is written.
//! Each iteration publishes a post with a new id, dated now (so it lands on top of every
//! listing it belongs to and shifts all their pages, the worst case), then unpublishes it
//! untimed, so the site stays at 10,000 posts. Run: `cargo bench -p submit-fn --bench publish`.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDate};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use generator::BuildOptions;
use submit_fn::publish::{LocalPublisher, Publisher, post_file};
use submit_fn::submission::{Kind, Submission};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const POSTS: usize = 10_000;
const MUNICIPALITIES: [&str; 7] =
    ["huizen", "blaricum", "laren", "eemnes", "gooise-meren", "hilversum", "wijdemeren"];
const CATEGORIES: [&str; 8] = [
    "boodschappen",
    "vervoer",
    "klussen",
    "gezelschap",
    "computer",
    "papierwerk",
    "maaltijd",
    "tuin",
];
const WORDS: [&str; 20] = [
    "boodschappen",
    "hulp",
    "buurvrouw",
    "dinsdag",
    "ziekenhuis",
    "wandelen",
    "computer",
    "formulier",
    "tuin",
    "maaltijd",
    "samen",
    "graag",
    "week",
    "koffie",
    "fiets",
    "lamp",
    "ophangen",
    "brengen",
    "halen",
    "rustig",
];

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-03T12:00:00+01:00").unwrap()
}

/// A small deterministic generator, so every run benchmarks the same site.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| WORDS[self.next(WORDS.len())]).collect::<Vec<_>>().join(" ")
    }
}

fn submission(rng: &mut Rng, i: usize) -> Submission {
    let paragraphs = 1 + rng.next(4);
    let body = (0..paragraphs)
        .map(|_| {
            let n = 15 + rng.next(26);
            format!("{}.", rng.words(n))
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    Submission {
        kind: if rng.next(2) == 0 { Kind::Request } else { Kind::Offer },
        title: rng.words(6),
        body,
        category: CATEGORIES[rng.next(CATEGORIES.len())].into(),
        municipality: MUNICIPALITIES[rng.next(MUNICIPALITIES.len())].into(),
        neighbourhood: None,
        recurring: rng.next(2) == 0,
        expires: NaiveDate::from_ymd_opt(2027, 6, 30),
        display_name: format!("Buur {i}"),
        organisation: None,
        email: None,
        phone: None,
    }
}

/// The sample site's settings and pages with 10,000 generated posts of November 2026.
fn write_content(dir: &Path) {
    let root = Path::new(ROOT).join("content");
    std::fs::create_dir_all(dir.join("posts")).unwrap();
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    std::fs::copy(root.join("site.yaml"), dir.join("site.yaml")).unwrap();
    for entry in std::fs::read_dir(root.join("pages")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("pages").join(entry.file_name())).unwrap();
    }
    let mut rng = Rng(7);
    for i in 0..POSTS {
        let id = format!("P{i:07}");
        let date = format!("2026-11-{:02}T{:02}:{:02}:00+01:00", 1 + i % 28, i % 24, i % 60);
        let text =
            post_file(&id, &submission(&mut rng, i), DateTime::parse_from_rfc3339(&date).unwrap());
        std::fs::write(dir.join("posts").join(format!("{id}.md")), text).unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{what}: n={} median {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.9)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap()),
    );
}

fn publish_one_of_10000(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    write_content(&content);
    let options = BuildOptions {
        content,
        theme: Path::new(ROOT).join("themes/default"),
        out: tmp.path().join("public"),
        now: now(),
        base_url: None,
    };
    let started = Instant::now();
    let publisher = LocalPublisher::open(options).unwrap();
    eprintln!("full build of {POSTS} posts: {:.2} s", started.elapsed().as_secs_f64());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let mut rng = Rng(11);
    let mut serial = 0usize;
    let (mut published, mut unpublished) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("approval to live, 10,000 posts");
    group.sampling_mode(SamplingMode::Flat).sample_size(30);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("publish", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                serial += 1;
                let id = format!("NEW{serial:07}");
                let text = post_file(&id, &submission(&mut rng, POSTS + serial), now());
                let t = Instant::now();
                runtime.block_on(publisher.publish(&id, &text)).unwrap();
                let took = t.elapsed();
                total += took;
                published.push(took);
                let t = Instant::now();
                runtime.block_on(publisher.unpublish(&id)).unwrap();
                unpublished.push(t.elapsed());
            }
            total
        })
    });
    group.finish();
    report("publish", published);
    report("unpublish (untimed by criterion)", unpublished);
}

criterion_group!(benches, publish_one_of_10000);
criterion_main!(benches);
