//! `sa-server static`: no path spelling reads outside the root. The requests go byte for byte
//! over a real socket, so hyper's parser sees exactly what an attacker would send.
mod support;

use support::static_files::*;

const PASSWD_MARK: &str = "root:x:0:0";

fn assert_no_leak(path: &[u8], response: &str) {
    let shown = String::from_utf8_lossy(path);
    assert!(
        !response.contains(SECRET),
        "{shown} leaked the outside file:\n{response}"
    );
    assert!(
        !response.contains(PASSWD_MARK),
        "{shown} leaked /etc/passwd:\n{response}"
    );
}

#[tokio::test]
async fn dot_dot_in_every_spelling_is_refused() {
    let f = fixture();
    let addr = spawn(app(&f)).await;
    let spellings: &[&[u8]] = &[
        b"/../outside/secret.txt",
        b"/../../../../etc/passwd",
        b"/data/../../outside/secret.txt",
        b"/%2e%2e/outside/secret.txt",
        b"/%2E%2E/%2E%2E/etc/passwd",
        b"/.%2e/outside/secret.txt",
        b"/%2e./outside/secret.txt",
        b"/..%2foutside%2fsecret.txt",
        b"/..%2Foutside%2Fsecret.txt",
        b"/data%2f..%2f..%2foutside%2fsecret.txt",
        b"/..%5coutside%5csecret.txt",
        b"/..%5C..%5Cetc%5Cpasswd",
        b"/%c0%ae%c0%ae/outside/secret.txt",
        b"/./index.html",
        b"//etc/passwd",
        b"/data//blob-0123456789abcdef.bin",
        b"/index.html%00.js",
        b"/%00",
        b"/x%0a.js",
        b"http://client.sa.example.com/../outside/secret.txt",
    ];
    for path in spellings {
        let (status, response) = raw_get(addr, path).await;
        assert_no_leak(path, &response);
        assert_eq!(status, 400, "{}: {response}", String::from_utf8_lossy(path));
        assert!(
            response.contains("\"bad_path\""),
            "{}: our JSON error, not a fallback page: {response}",
            String::from_utf8_lossy(path)
        );
    }
}

#[tokio::test]
async fn raw_backslashes_and_nul_bytes_never_reach_a_file() {
    let f = fixture();
    let addr = spawn(app(&f)).await;
    let spellings: &[&[u8]] = &[
        b"/..\\outside\\secret.txt",
        b"/..\\..\\etc\\passwd",
        b"/data\\..\\..\\outside/secret.txt",
        b"/index.html\0.js",
        b"/\0",
    ];
    for path in spellings {
        let (status, response) = raw_get(addr, path).await;
        assert_no_leak(path, &response);
        // hyper refuses some of these bytes in a request target before the router sees them.
        assert_eq!(status, 400, "{}: {response}", String::from_utf8_lossy(path));
    }
}

#[tokio::test]
async fn symlinks_that_leave_the_root_do_not_exist() {
    let f = fixture();
    assert!(f.outside.join("secret.txt").is_file());
    let addr = spawn(app(&f)).await;
    for (path, status) in [
        (&b"/leak.txt"[..], 404),
        (b"/relative-leak.txt", 404),
        (b"/leakdir/secret.js", 404),
        (b"/data/loop/leak.txt", 404),
        (b"/data/loop/leakdir/secret.js", 404),
        // No extension, so a navigation: the app's index.html, not /etc/passwd.
        (b"/passwd", 200),
    ] {
        let (got, response) = raw_get(addr, path).await;
        assert_no_leak(path, &response);
        let shown = String::from_utf8_lossy(path);
        if status == 200 {
            assert!(
                response.contains("<title>sa static fixture</title>"),
                "{shown}: {response}"
            );
        }
        assert_eq!(got, status, "{shown}: {response}");
    }
}

#[tokio::test]
async fn double_encoding_is_just_a_name() {
    let f = fixture();
    let addr = spawn(app(&f)).await;
    // `%252e` decodes once to the literal name `%2e`, which no file has.
    let (status, response) = raw_get(addr, b"/%252e%252e/%252e%252e/etc/passwd.txt").await;
    assert_no_leak(b"double", &response);
    assert_eq!(status, 404, "{response}");
}
