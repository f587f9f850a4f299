//! Seed 000's profile end to end — a user created with details,
//! notification preferences and a push token; their picture uploaded as a
//! form and as raw bytes, the four sizes served upright and without
//! metadata, caching, the default image, deletion (objects gone from the
//! store after the commit); settings round-tripped; push tokens read by a
//! host's API key — on the file store and on a real S3-compatible server.
//! Then every kind of bad upload, the size limit while streaming, who may
//! change whose picture, and a store that is down.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, pictures::*};

/// Asserts `bytes` is a square JPEG of `side` px with no metadata, and returns it decoded.
fn square_jpeg(bytes: &[u8], side: u32) -> image::RgbImage {
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    assert!(!contains(bytes, b"Exif\0\0"), "no EXIF left");
    assert!(!contains(bytes, &GPS_LATITUDE), "no GPS position left");
    assert!(!contains(bytes, &[0xFF, 0xE1]) || !contains(bytes, b"http://ns.adobe.com/xap"), "no XMP left");
    let img = image::load_from_memory(bytes).expect("decodes").to_rgb8();
    assert_eq!(img.dimensions(), (side, side));
    img
}

fn near(a: image::Rgb<u8>, b: image::Rgb<u8>) -> bool {
    a.0.iter().zip(b.0).all(|(x, y)| x.abs_diff(y) < 60)
}

async fn bytes_of(r: reqwest::Response) -> Vec<u8> {
    r.bytes().await.unwrap().to_vec()
}

/// Objects under the app's store, if it is the file store.
fn stored_files(app: &TestApp) -> Option<usize> {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    match &app.objects {
        Objects::Dir(dir) => Some(count(dir.path())),
        Objects::S3(_) => None,
    }
}

/// An administrator creates a user as seed 000 does: details, notification
/// preferences (000's `bookingReminder` is `booking_reminder`) and an Expo
/// push token (000's `expoPushToken`).
async fn create_with_details(app: &TestApp, admin: &Session, email: &str, device: &str) -> Value {
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin.access),
            json!({
                "email": email, "password": PASSWORD, "name": "Pia Picture",
                "profile": {"employee_id": "E-42", "position": "Host", "department": "Events"},
                "settings": {"notifications": {"invites": true, "booking_reminder": false}},
                "push_token": {"token": format!("ExponentPushToken[{device}]"), "provider": "expo", "device_name": "Pia's phone"},
            }),
        )
        .await;
    created(r).await
}

/// Seed 000's story on whichever store `app` has.
async fn profile_story(app: &TestApp) {
    let admin = app.admin().await;
    let email = unique_email("pic");
    let user = create_with_details(app, &admin, &email, "pia-1").await;
    assert_eq!(user["avatar"], Value::Null);
    let id = user["id"].as_str().unwrap().to_string();
    let me = app.login_ok(&email).await;

    // Settings round-trip: what the administrator set, every key shown, a merge patch.
    let settings = body_of(app.get("/api/v1/me/settings", Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(settings["notifications"], json!({"invites": true, "booking_reminder": false}));
    assert_eq!(settings["reminder_advance"], Value::Null);
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/me/settings",
            Some(&me.access),
            Some(json!({"notifications": {"booking_reminder": true}, "reminder_advance": "P1W"})),
        )
        .await;
    let patched = body_of(r, StatusCode::OK).await;
    assert_eq!(patched["notifications"], json!({"invites": true, "booking_reminder": true}));
    assert_eq!(patched["reminder_advance"], "P1W");
    let again = body_of(app.get("/api/v1/me/settings", Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(again, patched);

    // Stored 1200×800, top half red; EXIF orientation 6 shows it turned 90°
    // clockwise (800×1200, red on the right), with a GPS position.
    let upload = with_exif(&two_tone_jpeg(1200, 800), 6);
    let r = app.put_form("/api/v1/me/avatar", Some(&me.access), "image", upload).await;
    assert_eq!(r.status(), StatusCode::OK);
    let shown: Value = r.json().await.unwrap();
    let avatar = shown["avatar"].clone();
    let image_id = avatar["id"].as_str().unwrap().to_string();
    for (size, side) in [("thumbnail", 64), ("low", 128), ("mid", 256), ("high", 512)] {
        let url = avatar["urls"][size].as_str().unwrap();
        assert_eq!(url, format!("/api/v1/images/{image_id}?size={size}"));
        // No token: the id is the capability.
        let r = app.get(url, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{size}");
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let img = square_jpeg(&bytes_of(r).await, side);
        // Upright: the stored top (red) is now on the right.
        let (w, h) = img.dimensions();
        assert!(near(*img.get_pixel(w / 10, h / 2), BLUE), "{size}: left is blue");
        assert!(near(*img.get_pixel(w - 1 - w / 10, h / 2), RED), "{size}: right is red");
        // The same bytes again: 304 with the tag.
        let r = app.client.get(app.url(url)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    }
    // The default size is mid.
    let r = app.get(&format!("/api/v1/images/{image_id}"), None).await;
    square_jpeg(&bytes_of(r).await, 256);
    // The user's answers carry it, and the redirect points at it.
    let got = body_of(app.get(&format!("/api/v1/users/{id}"), Some(&admin.access)).await, StatusCode::OK).await;
    assert_eq!(got["avatar"], avatar);
    let r = app.get(&format!("/api/v1/users/{id}/avatar?size=high"), Some(&admin.access)).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], avatar["urls"]["high"].as_str().unwrap());

    // The default image, at each size.
    for (size, side) in [("thumbnail", 64), ("low", 128), ("mid", 256), ("high", 512)] {
        let r = app.get(&format!("/api/v1/images/null?size={size}"), None).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
        square_jpeg(&bytes_of(r).await, side);
    }

    // A raw PNG replaces it; the old picture is gone at once.
    let png_upload = png(&image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 30, RED)));
    let r = app.send_bytes(Method::PUT, "/api/v1/me/avatar", Some(&me.access), "image/png", png_upload).await;
    let replaced = body_of(r, StatusCode::OK).await;
    let new_id = replaced["avatar"]["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, image_id);
    let r = app.get(&format!("/api/v1/images/{image_id}?size=low"), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    // Smaller than every size: never upscaled.
    let r = app.get(&format!("/api/v1/images/{new_id}?size=high"), None).await;
    square_jpeg(&bytes_of(r).await, 30);

    // Deleted: 404 for the image, the redirect goes to the default image,
    // and the worker removes the objects from the store.
    let r = app.call(Method::DELETE, "/api/v1/me/avatar", Some(&me.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/v1/images/{new_id}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = app.get(&format!("/api/v1/users/{id}/avatar?size=low"), Some(&me.access)).await;
    assert_eq!(r.headers()["location"], "/api/v1/images/null?size=low");
    let me_now = body_of(app.get("/api/v1/me", Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(me_now["avatar"], Value::Null);
    let r = app.call(Method::DELETE, "/api/v1/me/avatar", Some(&me.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "deleting nothing is fine");
    let queue_empty = async {
        for _ in 0..100 {
            let left = app.db.execute("SELECT 1 FROM image_deletions").await.unwrap();
            if left == 0 && stored_files(app).unwrap_or(0) == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(queue_empty.await, "the worker deleted both pictures' objects");

    // A host service's API key reads the push tokens of two users by email
    // (000's "tokens for the given emails"); unknown addresses are absent.
    let other_email = unique_email("pic-other");
    create_with_details(app, &admin, &other_email, "pia-2").await;
    let root = app.superadmin().await;
    let keys = format!("/api/v1/orgs/{}/api-keys", roster_domain::DEFAULT_ORG_ID);
    let r = app.post(&keys, Some(&root.access), json!({"name": "notifier", "permissions": ["push_tokens:read"]})).await;
    let key = created(r).await["secret"].as_str().unwrap().to_string();
    let path = format!("/api/v1/push-tokens?email={email},{other_email},nobody@example.com");
    let found = body_of(app.get(&path, Some(&key)).await, StatusCode::OK).await;
    let mut tokens: Vec<(String, String)> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["email"].as_str().unwrap().to_string(), i["tokens"][0]["token"].as_str().unwrap().to_string()))
        .collect();
    tokens.sort();
    let mut expected = vec![
        (email.clone(), "ExponentPushToken[pia-1]".to_string()),
        (other_email.clone(), "ExponentPushToken[pia-2]".to_string()),
    ];
    expected.sort();
    assert_eq!(tokens, expected);
}

#[tokio::test]
async fn seed_000_profile_on_the_file_store() {
    let app = TestApp::spawn().await;
    profile_story(&app).await;
}

#[tokio::test]
async fn seed_000_profile_on_an_s3_server() {
    let app = TestApp::spawn_with_s3().await;
    profile_story(&app).await;
}

#[tokio::test]
async fn bad_uploads_get_their_own_answer_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let put = |ct: &'static str, bytes: Vec<u8>| {
        let (app, token) = (&app, me.access.clone());
        async move { app.send_bytes(Method::PUT, "/api/v1/me/avatar", Some(&token), ct, bytes).await }
    };
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    problem(put("image/png", svg).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image").await;
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    problem(put("image/jpeg", gif).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image").await;
    let html = b"<!doctype html><html><body>hi</body></html>".to_vec();
    problem(put("image/webp", html).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image").await;
    problem(put("image/jpeg", jpeg_zip_polyglot()).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image")
        .await;

    let tall = png(&image::DynamicImage::ImageLuma8(image::GrayImage::new(1, 100_000)));
    let body = problem(put("image/png", tall).await, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large").await;
    assert!(body["detail"].as_str().unwrap().contains("1×100000"), "{body}");
    let bomb = png_claiming(20_000, 20_000);
    assert!(bomb.len() < 1024, "a bomb of {} bytes", bomb.len());
    problem(put("image/png", bomb).await, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large").await;

    let noise = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x ^ y) % 256) as u8])
    });
    let whole = jpeg(&noise);
    let truncated = whole[..whole.len() / 2].to_vec();
    problem(put("image/jpeg", truncated).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image").await;

    // The wrong field name, and a form without a file.
    let r = app.put_form("/api/v1/me/avatar", Some(&me.access), "picture", two_tone_jpeg(64, 64)).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(body["errors"]["image"].is_array() && body["errors"]["picture"].is_array(), "{body}");
    // JSON is not a picture.
    let r = app.call(Method::PUT, "/api/v1/me/avatar", Some(&me.access), Some(json!({"image": "x"}))).await;
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let me_now = body_of(app.get("/api/v1/me", Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(me_now["avatar"], Value::Null);
    assert_eq!(stored_files(&app), Some(0), "nothing was written to the store");
}

/// What the server answered on `conn`: read until the problem's `code` has
/// arrived or the server closed (a head and its body may come in several reads).
async fn answer_of<R: tokio::io::AsyncRead + Unpin>(conn: &mut R) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = vec![0; 4096];
    while !(contains(&got, b"\"code\"") && got.ends_with(b"}")) {
        match tokio::time::timeout(Duration::from_secs(30), conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).to_string()
}

/// A 50 MiB body is refused at 10 MiB, declared or not.
#[tokio::test]
async fn uploads_past_the_limit_are_refused_while_they_stream() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let me = app.member().await;
    let addr = app.base.trim_start_matches("http://").to_string();

    // Declared: answered from the head, before any of the body is sent.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT /api/v1/me/avatar HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        me.access,
        50 * 1024 * 1024
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let text = answer_of(&mut conn).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");

    // Chunked: refused once 10 MiB have streamed in, while the client is still sending.
    let conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut rd, mut wr) = conn.into_split();
    let reader = tokio::spawn(async move { answer_of(&mut rd).await });
    let head = format!(
        "PUT /api/v1/me/avatar HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n",
        me.access
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![0xAB; 256 * 1024];
    let mut sent = 0usize;
    while sent < 50 * 1024 * 1024 {
        let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
        if wr.write_all(&framed).await.is_err() {
            break;
        }
        sent += chunk.len();
        if reader.is_finished() {
            break;
        }
    }
    let text = reader.await.unwrap();
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");
    assert!(sent < 50 * 1024 * 1024, "refused before the whole body was sent ({sent} bytes)");
}

#[tokio::test]
async fn administrators_set_and_remove_other_users_pictures_and_members_cannot() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member = app.member().await;
    let other = app.member().await;
    let path = format!("/api/v1/users/{}/avatar", other.id);
    let r = app.send_bytes(Method::PUT, &path, Some(&member.access), "image/jpeg", two_tone_jpeg(64, 64)).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.send_bytes(Method::PUT, &path, Some(&admin.access), "image/jpeg", two_tone_jpeg(64, 64)).await;
    let user = body_of(r, StatusCode::OK).await;
    assert_eq!(user["id"], other.id.as_str());
    assert!(user["avatar"]["id"].is_string());
    let r = app.call(Method::DELETE, &path, Some(&member.access), None).await;
    problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    let r = app.call(Method::DELETE, &path, Some(&admin.access), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.get(&format!("/api/v1/users/{}/avatar?size=huge", other.id), Some(&admin.access)).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    let r = app.get("/api/v1/images/not-an-id", None).await;
    problem(r, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_store_that_is_down_is_503_with_retry_after_and_nothing_is_recorded() {
    let app = TestApp::spawn_with_s3().await;
    let me = app.member().await;
    let Objects::S3(s3) = &app.objects else { unreachable!() };
    s3.set_down(true).await.unwrap();
    let r =
        app.send_bytes(Method::PUT, "/api/v1/me/avatar", Some(&me.access), "image/jpeg", two_tone_jpeg(64, 64)).await;
    assert!(r.headers().get("retry-after").is_some());
    problem(r, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    let me_now = body_of(app.get("/api/v1/me", Some(&me.access)).await, StatusCode::OK).await;
    assert_eq!(me_now["avatar"], Value::Null);
    s3.set_down(false).await.unwrap();
    let r =
        app.send_bytes(Method::PUT, "/api/v1/me/avatar", Some(&me.access), "image/jpeg", two_tone_jpeg(64, 64)).await;
    let shown = body_of(r, StatusCode::OK).await;
    let url = shown["avatar"]["urls"]["low"].as_str().unwrap().to_string();
    s3.set_down(true).await.unwrap();
    let r = app.get(&url, None).await;
    problem(r, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    s3.set_down(false).await.unwrap();
}
