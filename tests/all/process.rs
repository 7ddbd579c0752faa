//! Real `qiming` processes for tests that need them (crashes, the browser):
//! start, wait until healthy, talk HTTP over a plain socket, kill.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process that is killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Proc {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `qiming serve` on `port` with extra arguments and environment.
pub fn serve(port: u16, args: &[&str], env: &[(&str, &str)], log: &Path) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qiming"));
    cmd.arg("serve").arg("--addr").arg(format!("127.0.0.1:{port}")).args(args);
    cmd.env("RUST_LOG", "info").env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    cmd.stdout(Stdio::from(log.try_clone().unwrap())).stderr(Stdio::from(log));
    let proc = Proc(cmd.spawn().expect("start qiming serve"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http(port, "GET", "/healthz", None, None).is_ok_and(|(s, _)| s == 200) {
            return proc;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("qiming serve did not become healthy on port {port}");
}

/// `qiming worker` with extra arguments.
pub fn worker(args: &[&str], log: &Path) -> Proc {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_qiming"))
        .arg("worker")
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start qiming worker");
    Proc(child)
}

/// One HTTP/1.1 request (Connection: close); returns the status and the body as JSON (or a string).
pub fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body_text = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body_text.len());
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body_text.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("no HTTP head"))?;
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("no status"))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_string() };
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::String(body))))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `http`, asserting the status.
pub fn expect(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<Value>, status: u16) -> Value {
    let (got, value) = http(port, method, path, token, body.as_ref()).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert_eq!(got, status, "{method} {path}: {value}");
    value
}
