//! Fake values, built on the `fake` crate, from a seeded generator so the same seed always
//! gives the same value.

use fake::Fake;
use fake::faker::{address::raw as address, company::raw as company, creditcard::raw as card};
use fake::faker::{internet::raw as internet, job::raw as job, lorem::raw as lorem};
use fake::faker::{name::raw as name, phone_number::raw as phone};
use fake::locales::{DE_DE, Data, EN, FR_FR, IT_IT, JA_JP, NL_NL, PT_BR};
use fake::rand::RngExt;
use fake::rand::rngs::ChaCha8Rng;

/// Every fake kind, with what it makes.
pub const KINDS: &[(&str, &str)] = &[
    (
        "email",
        "an address at example.com/.net/.org (never a real mailbox): ada.lovelace4821@example.net",
    ),
    ("first_name", "a first name"),
    ("last_name", "a last name"),
    ("name", "a full name"),
    ("username", "a user name"),
    ("phone", "a phone number in the locale's format"),
    ("street_address", "a building number and street"),
    ("city", "a city name"),
    ("postcode", "a postcode"),
    ("country", "a country name"),
    ("company", "a company name"),
    ("job_title", "a job title"),
    ("ipv4", "an IPv4 address"),
    ("ipv6", "an IPv6 address"),
    ("url", "an https URL at an example domain"),
    (
        "credit_card",
        "a credit card number (passes the Luhn check)",
    ),
    ("iban", "an IBAN with valid check digits (DE, FR, NL, GB)"),
    ("sentence", "a lorem ipsum sentence"),
    ("paragraph", "a lorem ipsum paragraph"),
];

/// The locales fake values can be made in.
pub const LOCALES: &[&str] = &["en", "fr_fr", "de_de", "it_it", "nl_nl", "pt_br", "ja_jp"];

pub fn is_kind(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}

/// The kind an unknown `kind` most likely meant, for a "did you mean" hint: one a typo away,
/// else one named by a word of it (`company_name`: `company`; `phone_number`: `phone`), else
/// one whose first word it is (`street`: `street_address`).
pub fn likely_kind(kind: &str) -> Option<&'static str> {
    let names = || KINDS.iter().map(|(k, _)| *k);
    let lower = kind.to_lowercase();
    let words: Vec<&str> = lower
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    crate::error::did_you_mean(kind, names())
        .or_else(|| words.iter().find_map(|w| names().find(|k| k == w)))
        .or_else(|| names().find(|k| k.split('_').next() == Some(lower.as_str())))
}

/// A value of `kind` in `locale` from `rng`. Unknown kinds and locales are refused when the
/// rules are resolved, so here they cannot occur.
pub fn make(kind: &str, locale: &str, rng: &mut ChaCha8Rng) -> String {
    match locale {
        "fr_fr" => make_in(kind, FR_FR, rng),
        "de_de" => make_in(kind, DE_DE, rng),
        "it_it" => make_in(kind, IT_IT, rng),
        "nl_nl" => make_in(kind, NL_NL, rng),
        "pt_br" => make_in(kind, PT_BR, rng),
        "ja_jp" => make_in(kind, JA_JP, rng),
        _ => make_in(kind, EN, rng),
    }
}

/// ASCII letters and digits only, for the local part of an address.
fn ascii_word(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn make_in<L: Data + Copy + fake::faker::impls::address::CityNameGenFn>(
    kind: &str,
    l: L,
    rng: &mut ChaCha8Rng,
) -> String {
    match kind {
        "email" => {
            // Names from the locale, a number, a reserved domain: a large space of values,
            // and no mail ever reaches a real person.
            let first: String = name::FirstName(EN).fake_with_rng(rng);
            let last: String = name::LastName(EN).fake_with_rng(rng);
            let n: u32 = rng.random_range(0..100_000);
            let tld = ["com", "net", "org"][rng.random_range(0..3usize)];
            format!(
                "{}.{}{n}@example.{tld}",
                ascii_word(&first),
                ascii_word(&last)
            )
        }
        "first_name" => name::FirstName(l).fake_with_rng(rng),
        "last_name" => name::LastName(l).fake_with_rng(rng),
        "name" => name::Name(l).fake_with_rng(rng),
        "username" => internet::Username(l).fake_with_rng(rng),
        "phone" => phone::PhoneNumber(l).fake_with_rng(rng),
        "street_address" => {
            let n: String = address::BuildingNumber(l).fake_with_rng(rng);
            let s: String = address::StreetName(l).fake_with_rng(rng);
            format!("{n} {s}")
        }
        "city" => address::CityName(l).fake_with_rng(rng),
        "postcode" => address::PostCode(l).fake_with_rng(rng),
        "country" => address::CountryName(l).fake_with_rng(rng),
        "company" => company::CompanyName(l).fake_with_rng(rng),
        "job_title" => job::Title(l).fake_with_rng(rng),
        "ipv4" => internet::IPv4(l).fake_with_rng(rng),
        "ipv6" => internet::IPv6(l).fake_with_rng(rng),
        "url" => {
            let w: String = lorem::Word(EN).fake_with_rng(rng);
            let p: String = lorem::Word(EN).fake_with_rng(rng);
            let n: u32 = rng.random_range(0..10_000);
            format!(
                "https://{}{n}.example.com/{}",
                ascii_word(&w),
                ascii_word(&p)
            )
        }
        "credit_card" => card::CreditCardNumber(l).fake_with_rng(rng),
        "iban" => iban(rng),
        "sentence" => lorem::Sentence(EN, 4..10).fake_with_rng(rng),
        "paragraph" => lorem::Paragraph(EN, 3..6).fake_with_rng(rng),
        _ => String::new(),
    }
}

/// An IBAN with correct check digits (ISO 13616: mod 97 of the rearranged number is 1).
fn iban(rng: &mut ChaCha8Rng) -> String {
    let (country, len) =
        [("DE", 18usize), ("FR", 23), ("NL", 14), ("GB", 18)][rng.random_range(0..4usize)];
    let bban: String = (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    let rearranged = format!("{bban}{country}00");
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            _ => c as u32 - 'A' as u32 + 10,
        };
        for d in v.to_string().chars() {
            rem = (rem * 10 + (d as u32 - '0' as u32)) % 97;
        }
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::rand::SeedableRng;

    #[test]
    fn same_seed_same_value_and_every_kind_works() {
        for (kind, _) in KINDS {
            for locale in LOCALES {
                let a = make(kind, locale, &mut ChaCha8Rng::from_seed([7; 32]));
                let b = make(kind, locale, &mut ChaCha8Rng::from_seed([7; 32]));
                assert_eq!(a, b);
                assert!(!a.is_empty(), "{kind} in {locale}");
            }
        }
    }

    #[test]
    fn ibans_have_valid_check_digits() {
        let mut rng = ChaCha8Rng::from_seed([1; 32]);
        for _ in 0..50 {
            let i = iban(&mut rng);
            let r = format!("{}{}", &i[4..], &i[..4]);
            let mut rem = 0u64;
            for c in r.chars() {
                let v = c.to_digit(36).unwrap() as u64;
                rem = if v >= 10 {
                    (rem * 100 + v) % 97
                } else {
                    (rem * 10 + v) % 97
                };
            }
            assert_eq!(rem, 1, "{i}");
        }
    }

    #[test]
    fn an_unknown_kind_is_matched_to_the_one_it_likely_meant() {
        for (typed, meant) in [
            ("emial", Some("email")),
            ("company_name", Some("company")),
            ("phone_number", Some("phone")),
            ("full_name", Some("name")),
            ("Email_Address", Some("email")),
            ("street", Some("street_address")),
            ("credit", Some("credit_card")),
            ("zodiac_sign", None),
        ] {
            assert_eq!(likely_kind(typed), meant, "{typed}");
        }
    }
}
