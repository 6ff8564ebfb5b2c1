//! Web servers on loopback for the sync tests: a real nginx with its own configuration, and
//! two small misbehaving servers (nginx cannot be told to fail a few times, or to cut a body
//! short) built on a plain TCP listener.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nginx serving a repository directory on loopback, with fault-injecting locations:
/// `/repo/` (the repository), `/down/` (always 503), `/slow/` (the repository at 1 byte/s),
/// `/steady/` (the repository at 256 KB/s: a slow but working link).
#[derive(Debug)]
pub struct Nginx {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn serve(repo: &Path) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("nginx is installed (scripts/install-deps installs it)");
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let repo = repo.canonicalize().expect("repo path");
        let d = dir.path().display();
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ application/json json; application/gzip gz; }}
    server {{
        listen 127.0.0.1:{port};
        location /repo/ {{ alias {repo}/; }}
        location /down/ {{ return 503; }}
        location /slow/ {{ alias {repo}/; limit_rate 1; }}
        location /steady/ {{ alias {repo}/; limit_rate 256k; }}
    }}
}}
"#,
            repo = repo.display()
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("nginx.conf");
        let child = Command::new(nginx)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(dir.path())
            .spawn()
            .expect("start nginx");
        wait_for_port(port);
        Nginx { child, port, _dir: dir }
    }

    pub fn url(&self, location: &str) -> String {
        format!("http://127.0.0.1:{}/{location}/", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the misbehaving server answers the first `failures` requests.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// `503 Service Unavailable`.
    Unavailable,
    /// The right headers, half the body, then the connection closes.
    Truncate,
}

/// A file server on loopback that misbehaves `failures` times, then serves `root` properly.
#[derive(Debug)]
pub struct Faulty {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
}

impl Faulty {
    pub fn serve(root: &Path, fault: Fault, failures: usize) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let faults_left = AtomicUsize::new(failures);
        let root = root.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = answer(stream, &root, fault, &faults_left);
            }
        });
        Faulty { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// Take one fault from the budget, if any is left.
fn take(faults_left: &AtomicUsize) -> bool {
    faults_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Answer one request; faults are spent on requests they can spoil (a truncation needs a
/// file to cut short, so a 404 does not spend one).
fn answer(stream: TcpStream, root: &Path, fault: Fault, faults_left: &AtomicUsize) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/');
    let mut out = stream;
    if path.contains("..") {
        return out.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    if matches!(fault, Fault::Unavailable) && take(faults_left) {
        return out.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    let Ok(mut file) = std::fs::File::open(root.join(path)) else {
        return out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    let mut body = Vec::new();
    file.read_to_end(&mut body)?;
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if matches!(fault, Fault::Truncate) && take(faults_left) {
        out.write_all(&body[..body.len() / 2])
    } else {
        out.write_all(&body)
    }
}
