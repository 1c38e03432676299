//! Identity sources: header, cookie, extension, fallbacks; a credential that is present but
//! unusable is refused by `check` (and names nobody for `identify`), never replaced by a default
//! or a later source.

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
    assert_eq!(source.check(&parts(&[])), Ok(None));
    // Repeated, empty, padded or non-UTF-8 values name nobody, and check refuses them.
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
    for (headers, why) in [
        (
            &[("x-demo-user", &b"alice"[..]), ("x-demo-user", b"bob")][..],
            "repeated",
        ),
        (&[("x-demo-user", b"")], "not a valid user name"),
        (&[("x-demo-user", b" alice")], "not a valid user name"),
        (&[("x-demo-user", b"\xffx")], "not a valid user name"),
        (&[("x-demo-user", long.as_bytes())], "not a valid user name"),
    ] {
        let refused = source.check(&parts(headers)).unwrap_err();
        assert!(refused.reason().contains(why), "{refused}");
        assert!(refused.reason().contains("x-demo-user"), "{refused}");
        assert!(
            !refused.reason().contains("alice"),
            "the value is quoted: {refused}"
        );
    }
}

#[test]
fn header_identity_falls_back_to_its_default_only_without_the_header() {
    let source = header_source().with_default(Principal::new("guest"));
    assert_eq!(source.identify(&parts(&[])), Some(Principal::new("guest")));
    // An unusable header is not replaced by the default.
    assert_eq!(source.identify(&parts(&[("x-demo-user", b"")])), None);
    assert!(source.check(&parts(&[("x-demo-user", b"")])).is_err());
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
    // check refuses what identify reads as nobody, and finds the cookie among unreadable
    // bytes of other cookies.
    for (cookies, why) in [
        (
            &[("cookie", &b"demo_user=a; demo_user=b"[..])][..],
            "repeated",
        ),
        (
            &[("cookie", b"demo_user=a"), ("cookie", b"demo_user=a")],
            "repeated",
        ),
        (&[("cookie", b"demo_user=")], "not a valid user name"),
        (&[("cookie", b"demo_user=\xff")], "not a valid user name"),
    ] {
        let refused = source.check(&parts(cookies)).unwrap_err();
        assert!(refused.reason().contains(why), "{refused}");
        assert!(refused.reason().contains("demo_user"), "{refused}");
    }
    assert_eq!(
        source.check(&parts(&[("cookie", b"other=\xff; demo_user=alice")])),
        Ok(Some(Principal::new("alice")))
    );
    assert_eq!(source.check(&parts(&[("cookie", b"other=1")])), Ok(None));
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
    // A header that is present but unusable stops the chain: no cookie, no guest.
    let injected = parts(&[
        ("x-demo-user", b"alice"),
        ("x-demo-user", b"mallory"),
        ("cookie", b"demo_user=mallory"),
    ]);
    assert!(source.check(&injected).is_err());
    assert_eq!(source.identify(&injected), None);
    let bad_cookie = parts(&[("cookie", b"demo_user= mallory")]);
    assert!(source.check(&bad_cookie).is_err());
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

#[test]
fn cookie_identity_refuses_a_value_outside_the_cookie_octets() {
    // RFC 6265 cookie-octets only: an invisible character makes `bob\u{200b}` look like `bob`.
    let source = CookieIdentity::new("demo_user");
    for value in [
        "bob\u{200b}".as_bytes(),
        "bob\u{feff}".as_bytes(),
        "b\u{f6}b".as_bytes(),
        b"bob\\",
        b"b,ob",
    ] {
        let mut cookie = b"demo_user=".to_vec();
        cookie.extend_from_slice(value);
        let parts = parts(&[("cookie", &cookie)]);
        assert!(source.check(&parts).is_err(), "{value:?}");
        assert_eq!(source.identify(&parts), None, "{value:?}");
    }
    let parts = parts(&[("cookie", b"demo_user=dora.smith@example-1")]);
    assert_eq!(
        source.check(&parts),
        Ok(Some(Principal::new("dora.smith@example-1")))
    );
}
