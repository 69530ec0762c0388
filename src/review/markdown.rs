//! Markdown to HTML for the draft and its preview. People's text is never trusted as HTML: raw
//! HTML in the Markdown comes out as escaped text, and links or images with a scheme other than
//! http, https or mailto lose their target.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Safe HTML for `markdown` (tables, strikethrough and task lists on).
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let events = Parser::new_ext(markdown, options).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when it is relative or http(s)/mailto, else `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let t = url.trim();
    let scheme_end = t.find(':');
    let path_start = t.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(c), Some(p)) => c < p,
        (Some(_), None) => true,
        _ => false,
    };
    let lower = t.to_ascii_lowercase();
    let allowed = ["http://", "https://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p));
    if has_scheme && !allowed {
        CowStr::Borrowed("#")
    } else {
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped_and_script_links_are_dropped() {
        let html = to_html(
            "# Title\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> \
             [a](javascript:alert(1)) [b](https://example.com/x) [c](/incidents/P1) \
             ![i](data:text/html,x)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(html.contains(r#"href="https://example.com/x""#), "{html}");
        assert!(html.contains(r#"href="/incidents/P1""#), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
    }

    #[test]
    fn odd_schemes_are_caught_whatever_their_case_or_spacing() {
        for url in [
            "JavaScript:alert(1)",
            " vbscript:x",
            "data:,x",
            "file:///etc/passwd",
        ] {
            assert_eq!(&*safe_url(CowStr::Borrowed(url)), "#", "{url}");
        }
        for url in ["page#x:y", "./a:b", "?q=a:b", "https://x", "mailto:a@b"] {
            assert_eq!(&*safe_url(CowStr::Borrowed(url)), url, "{url}");
        }
    }
}
