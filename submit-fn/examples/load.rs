//! Load generator for the submission endpoint (a benchmark, not a test): drives a running
//! `buurtbord serve` over loopback from a second process and reports accepted
//! submissions per second and latency percentiles.
//!
//! It does what a resident's browser does, in two phases. First it fetches one form page
//! (GET /plaatsen) per submission and keeps the page's signed form token and nonce; then it
//! waits until the newest token passed the minimum fill time. Then C workers, each on its
//! own keep-alive connection, post the forms until the fixed total is sent. Only a 303 (the
//! redirect to the confirmation) counts as accepted; every other answer is an error, counted
//! by status. With `--db` it counts the queue's rows afterwards, so a 303 without a stored
//! item would show as a mismatch.
//!
//! Usage (see scripts/bench_submit.sh):
//! `cargo run --release -p submit-fn --example load -- --url http://127.0.0.1:8080
//!  --total 20000 --concurrency 32 [--db data/queue.sqlite3] [--threads 1] [--server-pid P]`

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server refuses a form sent back sooner than this after it was rendered
/// (`spam::MIN_FILL_SECONDS`); one second more covers the token's whole-second rounding.
const WAIT_AFTER_LAST_FORM: Duration =
    Duration::from_secs(submit_fn::spam::MIN_FILL_SECONDS as u64 + 1);

struct Options {
    address: SocketAddr,
    total: usize,
    concurrency: usize,
    threads: usize,
    db: Option<String>,
    /// The server's process id, to report its CPU time during the POST phase (Linux).
    server_pid: Option<u32>,
}

/// The hidden fields of one rendered form.
struct FormFields {
    token: String,
    nonce: String,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    by_status: BTreeMap<u16, usize>,
    connection_errors: usize,
}

fn main() -> Result<(), Error> {
    let options = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .enable_all()
        .build()?;
    runtime.block_on(run(options))
}

async fn run(options: Options) -> Result<(), Error> {
    let options = Arc::new(options);
    println!(
        "target: http://{}/plaatsen; submissions: {}; concurrency: {}; client threads: {}",
        options.address, options.total, options.concurrency, options.threads
    );

    let started = Instant::now();
    let forms = collect_forms(&options).await?;
    let collect_time = started.elapsed();
    println!(
        "form pages (GET): {} in {:.2} s ({:.0}/s)",
        forms.len(),
        collect_time.as_secs_f64(),
        forms.len() as f64 / collect_time.as_secs_f64()
    );
    tokio::time::sleep(WAIT_AFTER_LAST_FORM).await;

    let bodies: Arc<Vec<Bytes>> =
        Arc::new(forms.iter().enumerate().map(|(i, f)| submission_body(i, f)).collect());
    let cpu_before = options.server_pid.map(process_cpu_seconds).transpose()?;
    let started = Instant::now();
    let tally = post_all(&options, bodies).await?;
    let post_time = started.elapsed();
    report(&tally, post_time);
    if let (Some(pid), Some(before)) = (options.server_pid, cpu_before) {
        let used = process_cpu_seconds(pid)? - before;
        let accepted = tally.by_status.get(&StatusCode::SEE_OTHER.as_u16()).copied().unwrap_or(0);
        let per_post = used * 1e6 / accepted.max(1) as f64;
        println!("server CPU during the POST phase: {used:.2} s ({per_post:.0} µs per accepted)");
    }

    if let Some(db) = &options.db {
        let accepted = tally.by_status.get(&StatusCode::SEE_OTHER.as_u16()).copied().unwrap_or(0);
        let rows = count_queue(db)?;
        let verdict = if rows == accepted { "matches accepted" } else { "MISMATCH" };
        println!("queue rows in {db}: {rows} ({verdict})");
        if rows != accepted {
            return Err(format!("{accepted} accepted but {rows} queued").into());
        }
    }
    Ok(())
}

/// Fetches one form page per submission over `concurrency` connections.
async fn collect_forms(options: &Arc<Options>) -> Result<Vec<FormFields>, Error> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (options, next) = (Arc::clone(options), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut sender = connect(options.address).await?;
            let mut forms = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < options.total {
                let request = request(&options, Method::GET, None)?;
                let (status, html) = send(&mut sender, request).await?;
                if status != StatusCode::OK {
                    return Err(format!("GET /plaatsen answered {status}").into());
                }
                forms.push(form_fields(&html)?);
            }
            Ok::<_, Error>(forms)
        }));
    }
    let mut forms = Vec::with_capacity(options.total);
    for worker in workers {
        forms.extend(worker.await??);
    }
    Ok(forms)
}

/// Posts every body once over `concurrency` keep-alive connections, timing each request
/// from sending until its whole answer is read.
async fn post_all(options: &Arc<Options>, bodies: Arc<Vec<Bytes>>) -> Result<Tally, Error> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (options, next, bodies) = (Arc::clone(options), Arc::clone(&next), Arc::clone(&bodies));
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut sender = connect(options.address).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let request = request(&options, Method::POST, Some(body.clone()))?;
                let sent = Instant::now();
                match send(&mut sender, request).await {
                    Ok((status, _)) => {
                        tally.latencies.push(sent.elapsed());
                        *tally.by_status.entry(status.as_u16()).or_default() += 1;
                    }
                    Err(_) => {
                        // A broken connection loses this one submission; the next goes
                        // over a fresh connection, as a browser would retry.
                        tally.connection_errors += 1;
                        sender = connect(options.address).await?;
                    }
                }
            }
            Ok::<_, Error>(tally)
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await??;
        total.latencies.extend(tally.latencies);
        total.connection_errors += tally.connection_errors;
        for (status, count) in tally.by_status {
            *total.by_status.entry(status).or_default() += count;
        }
    }
    Ok(total)
}

async fn connect(address: SocketAddr) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    // Small request/response pairs: without this Nagle's algorithm adds delayed-ACK waits.
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn request(
    options: &Options,
    method: Method,
    body: Option<Bytes>,
) -> Result<Request<Full<Bytes>>, Error> {
    let mut builder = Request::builder()
        .method(method)
        .uri("/plaatsen")
        .header(HOST, options.address.to_string());
    if body.is_some() {
        builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    Ok(builder.body(Full::new(body.unwrap_or_default()))?)
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, String), Error> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The form token and nonce from a rendered form page.
fn form_fields(html: &str) -> Result<FormFields, Error> {
    Ok(FormFields {
        token: hidden_value(html, "form_token")?,
        nonce: hidden_value(html, "submission_id")?,
    })
}

/// The value of the input named `name`: the page is our own template, so the attribute
/// order `name="…" value="…"` is known.
fn hidden_value(html: &str, name: &str) -> Result<String, Error> {
    let missing = || format!("the form page has no {name} field");
    let after_name = html.split_once(&format!("name=\"{name}\"")).ok_or_else(missing)?.1;
    let tag_rest = after_name.split_once('>').ok_or_else(missing)?.0;
    let after_value = tag_rest.split_once("value=\"").ok_or_else(missing)?.1;
    Ok(after_value.split_once('"').ok_or_else(missing)?.0.to_owned())
}

/// A valid submission for the sample site: honeypot empty, consent given, a contact.
fn submission_body(i: usize, form: &FormFields) -> Bytes {
    let title = format!("Wie doet boodschappen voor mij, keer {i}?");
    let fields = [
        ("kind", "request"),
        ("title", title.as_str()),
        ("category", "boodschappen"),
        ("municipality", "huizen"),
        ("neighbourhood", "Centrum"),
        ("body", "Ik kan zelf niet naar de winkel. Wie haalt op dinsdag mijn boodschappen?"),
        ("recurring", "once"),
        ("display_name", "Buur"),
        ("email", "buur@example.org"),
        ("consent", "yes"),
        ("website", ""),
        ("form_token", form.token.as_str()),
        ("submission_id", form.nonce.as_str()),
    ];
    Bytes::from(serde_urlencoded::to_string(fields).expect("string pairs always encode"))
}

fn report(tally: &Tally, elapsed: Duration) {
    let accepted = tally.by_status.get(&StatusCode::SEE_OTHER.as_u16()).copied().unwrap_or(0);
    let seconds = elapsed.as_secs_f64();
    println!(
        "accepted (303): {accepted} in {seconds:.2} s = {:.0} accepted/s",
        accepted as f64 / seconds
    );
    let mut latencies = tally.latencies.clone();
    latencies.sort_unstable();
    let ms = |p: f64| percentile(&latencies, p).as_secs_f64() * 1000.0;
    println!(
        "latency of every answered POST (ms): p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        ms(50.0),
        ms(90.0),
        ms(99.0),
        ms(100.0)
    );
    let errors: Vec<String> = tally
        .by_status
        .iter()
        .filter(|(status, _)| **status != StatusCode::SEE_OTHER.as_u16())
        .map(|(status, count)| format!("{status}: {count}"))
        .chain(
            (tally.connection_errors > 0)
                .then(|| format!("connection: {}", tally.connection_errors)),
        )
        .collect();
    println!(
        "errors by status: {}",
        if errors.is_empty() { "none".into() } else { errors.join(", ") }
    );
}

/// Nearest-rank percentile of sorted values; zero when there are none.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// User plus system CPU seconds of a process so far, from `/proc/<pid>/stat`, whose clock
/// ticks are USER_HZ, 100 per second on Linux.
fn process_cpu_seconds(pid: u32) -> Result<f64, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name in parentheses may hold spaces; the fields after it do not.
    let after_name = stat.rsplit_once(')').ok_or("unreadable /proc stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64, Error> {
        Ok(fields.get(i).ok_or("short /proc stat")?.parse::<f64>()?)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

fn count_queue(db: &str) -> Result<usize, Error> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM submissions", [], |row| row.get(0))?;
    Ok(usize::try_from(rows)?)
}

fn parse_args() -> Result<Options, Error> {
    let mut url = "http://127.0.0.1:8080".to_owned();
    let (mut total, mut concurrency, mut threads, mut db) = (20_000, 32, 1, None);
    let mut server_pid = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = value()?,
            "--total" => total = value()?.parse()?,
            "--concurrency" => concurrency = value()?.parse()?,
            "--threads" => threads = value()?.parse()?,
            "--db" => db = Some(value()?),
            "--server-pid" => server_pid = Some(value()?.parse()?),
            _ => return Err(format!("unknown argument {flag}; see the header of load.rs").into()),
        }
    }
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let address =
        host.parse().map_err(|_| format!("--url must be http://<ip>:<port>, not {url}"))?;
    if concurrency == 0 || threads == 0 {
        return Err("--concurrency and --threads must be at least 1".into());
    }
    Ok(Options { address, total, concurrency, threads, db, server_pid })
}
