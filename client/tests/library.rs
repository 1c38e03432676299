//! The library's own promises, without a real host: what its `Debug` output shows, and how it
//! reports answers a tessera host would not give (from a fake host on 127.0.0.1).

use tessera_client::Client;

/// A base URL may carry credentials (`http://user:password@host/`, which the HTTP client sends
/// as Basic authentication): the password never appears in `Debug` output.
#[test]
fn debug_output_never_shows_the_base_url_password() {
    let builder = Client::builder("http://admin:hunter2@127.0.0.1:8080/").user("alice");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:8080"), "{shown}");
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:8080"), "{shown}");
    assert!(
        shown.contains("admin"),
        "the user name is not a secret: {shown}"
    );
    // Asked for explicitly, the URL is whole.
    assert_eq!(client.base_url().password(), Some("hunter2"));
}
