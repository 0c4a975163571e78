//! A loopback-only fake HTTP proxy for the proxy scenario: it answers every `CONNECT` with a
//! fixed status line (e.g. `HTTP/1.1 504 Gateway Timeout`) and an HTML body, as a corporate
//! proxy that cannot reach the API server does, and never connects anywhere.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts the proxy on 127.0.0.1 (a free port); it stops when `shutdown` turns true.
pub async fn spawn(
    status: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(_) => continue,
                },
                _ = shutdown.changed() => return,
            };
            let status = status.clone();
            tokio::spawn(async move {
                // Read the request head (bounded in size and time), then answer and close.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                let read = tokio::time::timeout(Duration::from_secs(5), async {
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                })
                .await;
                if read.is_err() {
                    return;
                }
                let reason = status.splitn(3, ' ').nth(2).unwrap_or("Error").to_string();
                let body = format!(
                    "<html><head><title>{reason}</title></head><body><h1>{reason}</h1><p>The proxy could not reach the requested host.</p></body></html>\n"
                );
                let answer = format!(
                    "{status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Ok(addr)
}
