//! Identity sources: header, cookie, extension, fallbacks, and odd values treated as nobody.

use axum::http::request::Parts;
use axum::http::{HeaderName, Request};
use tessera_server::{
    Anonymous, CookieIdentity, ExtensionIdentity, FixedIdentity, HeaderIdentity, IdentitySource,
    Principal,
};

fn parts(headers: &[(&str, &[u8])]) -> Parts {
    let mut builder = Request::get("/");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

fn header_source() -> HeaderIdentity {
    HeaderIdentity::new(HeaderName::from_static("x-demo-user"))
}

#[test]
fn header_identity_reads_one_clean_value() {
    let source = header_source();
    assert_eq!(
        source.identify(&parts(&[("x-demo-user", b"alice")])),
        Some(Principal::new("alice"))
    );
    assert_eq!(source.identify(&parts(&[])), None);
    // Repeated, empty, padded or non-UTF-8 values name nobody.
    assert_eq!(
        source.identify(&parts(&[
            ("x-demo-user", b"alice"),
            ("x-demo-user", b"bob")
        ])),
        None
    );
    assert_eq!(source.identify(&parts(&[("x-demo-user", b"")])), None);
    assert_eq!(source.identify(&parts(&[("x-demo-user", b" alice")])), None);
    assert_eq!(source.identify(&parts(&[("x-demo-user", b"\xffx")])), None);
    let long = "a".repeat(300);
    assert_eq!(
        source.identify(&parts(&[("x-demo-user", long.as_bytes())])),
        None
    );
}

#[test]
fn header_identity_falls_back_to_its_default() {
    let source = header_source().with_default(Principal::new("guest"));
    assert_eq!(source.identify(&parts(&[])), Some(Principal::new("guest")));
    assert_eq!(
        source.identify(&parts(&[("x-demo-user", b"")])),
        Some(Principal::new("guest"))
    );
    assert_eq!(
        source.identify(&parts(&[("x-demo-user", b"bob")])),
        Some(Principal::new("bob"))
    );
}

#[test]
fn cookie_identity_reads_its_cookie_only() {
    let source = CookieIdentity::new("demo_user");
    assert_eq!(
        source.identify(&parts(&[("cookie", b"a=1; demo_user=alice; b=2")])),
        Some(Principal::new("alice"))
    );
    assert_eq!(
        source.identify(&parts(&[("cookie", b"demo_user=\"quoted\"")])),
        Some(Principal::new("quoted"))
    );
    assert_eq!(
        source.identify(&parts(&[("cookie", b"xdemo_user=alice")])),
        None
    );
    assert_eq!(
        source.identify(&parts(&[
            ("cookie", b"demo_user=a"),
            ("cookie", b"demo_user=b")
        ])),
        None,
        "two cookies of the same name are ambiguous"
    );
    assert_eq!(source.identify(&parts(&[("cookie", b"demo_user=")])), None);
}

#[test]
fn sources_chain_in_order() {
    let source = header_source()
        .or(CookieIdentity::new("demo_user"))
        .or(FixedIdentity::new(Principal::new("guest")));
    assert_eq!(
        source.identify(&parts(&[("x-demo-user", b"h"), ("cookie", b"demo_user=c")])),
        Some(Principal::new("h"))
    );
    assert_eq!(
        source.identify(&parts(&[("cookie", b"demo_user=c")])),
        Some(Principal::new("c"))
    );
    assert_eq!(source.identify(&parts(&[])), Some(Principal::new("guest")));
    assert_eq!(Anonymous.identify(&parts(&[("x-demo-user", b"h")])), None);
}

#[test]
fn extension_identity_reads_what_a_middleware_inserted() {
    let mut request = Request::get("/").body(()).unwrap();
    assert_eq!(
        ExtensionIdentity.identify(&request.clone().into_parts().0),
        None
    );
    request.extensions_mut().insert(Principal::new("user:42"));
    assert_eq!(
        ExtensionIdentity.identify(&request.into_parts().0),
        Some(Principal::new("user:42"))
    );
}
