//! Connection URLs: `mysql://user[:password]@host[:port]/database[?socket=PATH]`
//! (also `mariadb://`) and `sqlite:PATH` (also `sqlite://PATH`).
//!
//! The password is kept apart from everything that is ever displayed: [`ConnUrl::redacted`]
//! is the only form that reaches messages, logs and dump headers.

use crate::error::{Error, Result};

#[derive(Clone)]
pub enum ConnUrl {
    MySql(MySqlUrl),
    Sqlite { path: String },
}

#[derive(Clone)]
pub struct MySqlUrl {
    pub user: String,
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub socket: Option<String>,
}

impl std::fmt::Debug for ConnUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ConnUrl {
    /// Parses a URL. Errors show the URL with its password removed.
    pub fn parse(text: &str) -> Result<ConnUrl> {
        let bad = |reason: &str| Error::Url {
            url: redact_text(text),
            reason: reason.to_string(),
        };
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("no file path; write sqlite:path/to/file.db"));
            }
            return Ok(ConnUrl::Sqlite {
                path: path.to_string(),
            });
        }
        let parsed = url::Url::parse(text).map_err(|e| {
            bad(&format!(
                "{e}; write mysql://user:password@host:port/database (with `/`, `:`, `@`, `?` \
                 or `#` in the password percent-encoded, %2F for `/`, or the password in \
                 PARTIALDUMP_PASSWORD instead) or sqlite:path/to/file.db"
            ))
        })?;
        match parsed.scheme() {
            "mysql" | "mariadb" => {}
            other => {
                return Err(bad(&format!(
                    "unknown scheme `{other}`; partialdump reads mysql://, mariadb:// and sqlite: URLs"
                )));
            }
        }
        let decode = |s: &str| {
            percent_decode(s)
                .ok_or_else(|| bad("the user or password is not valid percent-encoded UTF-8"))
        };
        let user = decode(parsed.username())?;
        if user.is_empty() {
            return Err(bad("no user; write mysql://user@host/database"));
        }
        let password = match parsed.password() {
            Some(p) => Some(decode(p)?),
            None => std::env::var("PARTIALDUMP_PASSWORD").ok(),
        };
        let database = parsed.path().trim_start_matches('/').to_string();
        if database.is_empty() || database.contains('/') {
            return Err(bad("no database name; write mysql://user@host/database"));
        }
        let socket = parsed
            .query_pairs()
            .find(|(k, _)| k == "socket")
            .map(|(_, v)| v.into_owned());
        Ok(ConnUrl::MySql(MySqlUrl {
            user,
            password,
            host: parsed.host_str().unwrap_or("localhost").to_string(),
            port: parsed.port().unwrap_or(3306),
            database: percent_decode(&database)
                .ok_or_else(|| bad("the database name is not valid UTF-8"))?,
            socket,
        }))
    }

    /// The URL with any password removed: the only form that is ever displayed.
    pub fn redacted(&self) -> String {
        match self {
            ConnUrl::Sqlite { path } => format!("sqlite:{path}"),
            ConnUrl::MySql(m) => {
                let mut s = format!("mysql://{}@{}:{}/{}", m.user, m.host, m.port, m.database);
                if let Some(sock) = &m.socket {
                    s.push_str("?socket=");
                    s.push_str(sock);
                }
                s
            }
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// Removes a password from a URL-looking text that did not parse, for error messages. A
/// password may hold `/`, `@`, `:`, `?` or `#` unescaped, so the user info runs to the last
/// `@`, and without one, whatever follows the first `:` but a port number is hidden (a
/// password typed without a host would be taken for a port): more is hidden than need be
/// rather than a piece of a password shown.
fn redact_text(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let (head, rest) = text.split_at(scheme_end + 3);
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        return match userinfo.find(':') {
            Some(colon) => format!("{head}{}:***{}", &userinfo[..colon], &rest[at..]),
            None => text.to_string(),
        };
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].find(':') {
        Some(colon)
            if !rest[colon + 1..authority_end]
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            format!("{head}{}:***", &rest[..colon])
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mysql_and_hides_password() {
        let u = ConnUrl::parse("mysql://app:s%40cret@db.example:3307/shop").unwrap();
        let ConnUrl::MySql(m) = &u else {
            panic!("not mysql")
        };
        assert_eq!(m.password.as_deref(), Some("s@cret"));
        assert_eq!(m.port, 3307);
        assert_eq!(u.redacted(), "mysql://app@db.example:3307/shop");
        assert!(!format!("{u:?}").contains("cret"));
        // An `@` in the password, unescaped: the user info runs to the last one.
        let u = ConnUrl::parse("mysql://app:s@cret@db.example/shop").unwrap();
        let ConnUrl::MySql(m) = &u else {
            panic!("not mysql")
        };
        assert_eq!(m.password.as_deref(), Some("s@cret"));
        assert_eq!(u.redacted(), "mysql://app@db.example:3306/shop");
    }

    #[test]
    fn parses_sqlite() {
        let u = ConnUrl::parse("sqlite:./x.db").unwrap();
        assert_eq!(u.redacted(), "sqlite:./x.db");
        let u = ConnUrl::parse("sqlite:///tmp/x.db").unwrap();
        assert_eq!(u.redacted(), "sqlite:/tmp/x.db");
    }

    #[test]
    fn bad_urls_never_show_the_password() {
        for bad in [
            "mysql://app:hunter2@host",
            "postgres://app:hunter2@host/db",
            "mysql://app:hunter2@ho st/db",
            // Characters a password may hold that URLs reserve, unescaped: the parser takes a
            // piece of the password for the host, port or path.
            "mysql://app:hun:ter2/x@host/db",
            "mysql://app:h@unt/er2%20@host/db",
            "mysql://app:hunter2/db",
            "mysql://app:hun/ter2",
        ] {
            let e = ConnUrl::parse(bad).unwrap_err().to_string();
            for piece in ["hunter2", "hun", "ter2", "unt", "er2"] {
                assert!(!e.contains(piece), "{piece:?} of the password in: {e}");
            }
            assert!(e.contains("bad connection URL"), "{e}");
            assert!(
                e.contains("mysql://app:***") || e.contains("postgres://app:***"),
                "{e}"
            );
        }
    }
}
