//! The frame of every console page: the document, the stylesheet and script (by hashed
//! URL), the navigation bar made from the route table, the signed-in operator with the
//! logout button, and notices. Pages give only their content.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::routes::CONSOLE_ROUTES;
use super::session::{CsrfToken, Operator};

/// A whole page for a signed-in operator.
pub fn page(title: &str, operator: &Operator, content: Markup) -> Markup {
    document(title, Some((operator, &operator.csrf)), content)
}

/// A whole page before sign-in (no navigation).
pub fn public_page(title: &str, content: Markup) -> Markup {
    document(title, None, content)
}

fn document(title: &str, operator: Option<(&Operator, &CsrfToken)>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Countersign console" }
                link rel="stylesheet" href=(assets::url(assets::STYLE));
                script src=(assets::url(assets::SCRIPT)) defer {}
            }
            body {
                header {
                    span.brand { "Countersign console" }
                    @if let Some((operator, csrf)) = operator {
                        nav { (navigation()) }
                        form.logout method="post" action="/console/logout" {
                            (csrf.field())
                            span.who { (operator.email) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

fn navigation() -> Markup {
    html! {
        ul {
            @for route in CONSOLE_ROUTES.iter().filter(|r| r.nav.is_some()) {
                li { a href=(route.full_path()) { (route.nav.unwrap_or_default()) } }
            }
        }
    }
}

/// What kind of notice to show.
#[derive(Clone, Copy, Debug)]
pub enum Notice {
    Done,
    Problem,
}

/// A notice (a "flash" message) at the top of a page's content.
pub fn notice(kind: Notice, text: &str) -> Markup {
    let class = match kind {
        Notice::Done => "notice done",
        Notice::Problem => "notice problem",
    };
    html! { p class=(class) role="status" { (text) } }
}
