//! The test S3 server: taken down, connections are refused and open ones
//! closed; brought back, it listens on the same port with its objects intact.

use std::time::Duration;

use roster_testkit::TestS3Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An unsigned request: s3s answers it (with an S3 error) when up.
async fn answered(stream: &mut TcpStream) -> std::io::Result<usize> {
    stream.write_all(b"GET /roster-test/k HTTP/1.1\r\nHost: x\r\n\r\n").await?;
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.map_err(std::io::Error::other)?
}

#[tokio::test]
async fn down_refuses_and_closes_connections_and_up_comes_back_on_the_same_port() -> anyhow::Result<()> {
    let server = TestS3Server::start().await?;
    assert!(server.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(server.storage_url(), format!("s3://{}", server.bucket()));
    assert!(server.dir().join(server.bucket()).is_dir());

    let mut open = TcpStream::connect(server.addr()).await?;
    assert!(answered(&mut open).await? > 0);

    server.set_down(true).await?;
    let refused = TcpStream::connect(server.addr()).await;
    assert_eq!(refused.map(drop).map_err(|e| e.kind()), Err(std::io::ErrorKind::ConnectionRefused));
    // The connection opened before is closed: EOF or a reset.
    assert!(!matches!(answered(&mut open).await, Ok(n) if n > 0));

    server.set_down(false).await?;
    let mut again = TcpStream::connect(server.addr()).await?;
    assert!(answered(&mut again).await? > 0);

    // Taking it down twice or up twice is harmless.
    server.set_down(false).await?;
    server.set_down(true).await?;
    server.set_down(true).await?;
    server.set_down(false).await?;
    let mut last = TcpStream::connect(server.addr()).await?;
    assert!(answered(&mut last).await? > 0);

    let dir = server.dir().to_owned();
    drop(server);
    assert!(!dir.exists());
    Ok(())
}
