//! Message texts in the 35 languages of the Authy docs (one-time-passwords: "Supported
//! languages"), kept as data: one row per locale with the SMS, the custom-action SMS and the
//! spoken voice text. `{app}`, `{code}` and `{action}` are filled in.
//!
//! The locale is chosen as the docs describe: the `locale` parameter when it is supported;
//! a language given without a (supported) region takes the region of the user's country when
//! that country speaks it (`pt` for a Brazilian number is `pt-BR`, `zh` for a Hong Kong number
//! `zh-HK`), else the bare language (`es-MX` is `es`); with no usable `locale`, the user's
//! country decides; English when nothing else does.

/// One locale's texts.
pub struct Texts {
    pub locale: &'static str,
    sms: &'static str,
    action: &'static str,
    voice: &'static str,
}

const fn row(
    locale: &'static str,
    sms: &'static str,
    action: &'static str,
    voice: &'static str,
) -> Texts {
    Texts {
        locale,
        sms,
        action,
        voice,
    }
}

/// English first: it is the last fallback.
#[rustfmt::skip]
pub const TEXTS: &[Texts] = &[
    row("en", "Your {app} verification code is: {code}", "{action}\nYour {app} code: {code}", "Your {app} verification code is {code}"),
    row("af", "Jou {app}-verifikasiekode is: {code}", "{action}\nJou {app}-kode: {code}", "Jou {app}-verifikasiekode is {code}"),
    row("ar", "رمز التحقق الخاص بك في {app} هو: {code}", "{action}\nرمزك في {app}: {code}", "رمز التحقق الخاص بك في {app} هو {code}"),
    row("ca", "El teu codi de verificació de {app} és: {code}", "{action}\nEl teu codi de {app}: {code}", "El teu codi de verificació de {app} és {code}"),
    row("zh", "您的 {app} 驗證碼是：{code}", "{action}\n您的 {app} 代碼：{code}", "您的 {app} 驗證碼是 {code}"),
    row("zh-CN", "您的 {app} 验证码是：{code}", "{action}\n您的 {app} 代码：{code}", "您的 {app} 验证码是 {code}"),
    row("zh-HK", "你嘅 {app} 驗證碼係：{code}", "{action}\n你嘅 {app} 代碼：{code}", "你嘅 {app} 驗證碼係 {code}"),
    row("hr", "Vaš kôd za potvrdu za {app} je: {code}", "{action}\nVaš kôd za {app}: {code}", "Vaš kôd za potvrdu za {app} je {code}"),
    row("cs", "Váš ověřovací kód pro {app} je: {code}", "{action}\nVáš kód pro {app}: {code}", "Váš ověřovací kód pro {app} je {code}"),
    row("da", "Din bekræftelseskode til {app} er: {code}", "{action}\nDin kode til {app}: {code}", "Din bekræftelseskode til {app} er {code}"),
    row("nl", "Uw {app} verificatiecode is: {code}", "{action}\nUw {app} code: {code}", "Uw {app} verificatiecode is {code}"),
    row("fi", "{app}-vahvistuskoodisi on: {code}", "{action}\n{app}-koodisi: {code}", "{app}-vahvistuskoodisi on {code}"),
    row("fr", "Votre code de vérification {app} est : {code}", "{action}\nVotre code {app} : {code}", "Votre code de vérification {app} est {code}"),
    row("de", "Ihr {app} Bestätigungscode lautet: {code}", "{action}\nIhr {app} Code: {code}", "Ihr {app} Bestätigungscode lautet {code}"),
    row("el", "Ο κωδικός επαλήθευσής σας για το {app} είναι: {code}", "{action}\nΟ κωδικός σας για το {app}: {code}", "Ο κωδικός επαλήθευσής σας για το {app} είναι {code}"),
    row("he", "קוד האימות שלך ל-{app} הוא: {code}", "{action}\nהקוד שלך ל-{app}: {code}", "קוד האימות שלך ל-{app} הוא {code}"),
    row("hi", "आपका {app} सत्यापन कोड है: {code}", "{action}\nआपका {app} कोड: {code}", "आपका {app} सत्यापन कोड है {code}"),
    row("hu", "Az Ön {app} ellenőrző kódja: {code}", "{action}\nAz Ön {app} kódja: {code}", "Az Ön {app} ellenőrző kódja {code}"),
    row("id", "Kode verifikasi {app} Anda adalah: {code}", "{action}\nKode {app} Anda: {code}", "Kode verifikasi {app} Anda adalah {code}"),
    row("it", "Il tuo codice di verifica {app} è: {code}", "{action}\nIl tuo codice {app}: {code}", "Il suo codice di verifica {app} è {code}"),
    row("ja", "{app} の認証コード: {code}", "{action}\n{app} のコード: {code}", "{app} の認証コードは {code} です"),
    row("ko", "{app} 인증 코드: {code}", "{action}\n{app} 코드: {code}", "{app} 인증 코드는 {code} 입니다"),
    row("ms", "Kod pengesahan {app} anda ialah: {code}", "{action}\nKod {app} anda: {code}", "Kod pengesahan {app} anda ialah {code}"),
    row("nb", "Din bekreftelseskode for {app} er: {code}", "{action}\nDin kode for {app}: {code}", "Din bekreftelseskode for {app} er {code}"),
    row("pl", "Twój kod weryfikacyjny {app} to: {code}", "{action}\nTwój kod {app}: {code}", "Twój kod weryfikacyjny {app} to {code}"),
    row("pt-BR", "Seu código de verificação {app} é: {code}", "{action}\nSeu código {app}: {code}", "Seu código de verificação {app} é {code}"),
    row("pt", "O seu código de verificação {app} é: {code}", "{action}\nO seu código {app}: {code}", "O seu código de verificação {app} é {code}"),
    row("ro", "Codul tău de verificare {app} este: {code}", "{action}\nCodul tău {app}: {code}", "Codul tău de verificare {app} este {code}"),
    row("ru", "Ваш код подтверждения {app}: {code}", "{action}\nВаш код {app}: {code}", "Ваш код подтверждения {app}: {code}"),
    row("es", "Tu código de verificación de {app} es: {code}", "{action}\nTu código de {app}: {code}", "Su código de verificación de {app} es {code}"),
    row("sv", "Din verifieringskod för {app} är: {code}", "{action}\nDin kod för {app}: {code}", "Din verifieringskod för {app} är {code}"),
    row("tl", "Ang iyong {app} verification code ay: {code}", "{action}\nAng iyong {app} code: {code}", "Ang iyong {app} verification code ay {code}"),
    row("th", "รหัสยืนยัน {app} ของคุณคือ: {code}", "{action}\nรหัส {app} ของคุณ: {code}", "รหัสยืนยัน {app} ของคุณคือ {code}"),
    row("tr", "{app} doğrulama kodunuz: {code}", "{action}\n{app} kodunuz: {code}", "{app} doğrulama kodunuz {code}"),
    row("vi", "Mã xác minh {app} của bạn là: {code}", "{action}\nMã {app} của bạn: {code}", "Mã xác minh {app} của bạn là {code}"),
];

/// The locale of each country calling code whose users get a language other than English
/// (countries sharing +1, +7 and +44 keep the majority language of the code).
#[rustfmt::skip]
const COUNTRY_LOCALES: &[(&str, &[i64])] = &[
    ("ar", &[20, 212, 213, 216, 218, 249, 961, 962, 963, 964, 965, 966, 967, 968, 970, 971, 973, 974]),
    ("ca", &[376]),
    ("zh", &[886]),
    ("zh-CN", &[86]),
    ("zh-HK", &[852, 853]),
    ("hr", &[385]),
    ("cs", &[420]),
    ("da", &[45, 298, 299]),
    ("nl", &[31, 297, 597, 599]),
    ("fi", &[358]),
    ("fr", &[33, 32, 352, 377, 221, 225, 237, 243, 262, 509, 590, 594, 596, 687, 689]),
    ("de", &[49, 41, 43, 423]),
    ("el", &[30, 357]),
    ("he", &[972]),
    ("hi", &[91]),
    ("hu", &[36]),
    ("id", &[62]),
    ("it", &[39, 378]),
    ("ja", &[81]),
    ("ko", &[82]),
    ("ms", &[60, 673]),
    ("nb", &[47]),
    ("pl", &[48]),
    ("pt-BR", &[55]),
    ("pt", &[351, 238, 239, 244, 245, 258, 670]),
    ("ro", &[40, 373]),
    ("ru", &[7, 375]),
    ("es", &[34, 51, 52, 53, 54, 56, 57, 58, 240, 502, 503, 504, 505, 506, 507, 591, 593, 595, 598]),
    ("sv", &[46]),
    ("tl", &[63]),
    ("th", &[66]),
    ("tr", &[90]),
    ("vi", &[84]),
];

/// Older or alternative language subtags that name a supported language.
const ALIASES: &[(&str, &str)] = &[
    ("no", "nb"),
    ("nn", "nb"),
    ("iw", "he"),
    ("in", "id"),
    ("fil", "tl"),
];

/// Longer than any BCP 47 tag worth reading: such a `locale` is ignored, not parsed.
const MAX_LOCALE_LEN: usize = 35;

fn find(locale: &str) -> Option<&'static Texts> {
    TEXTS.iter().find(|t| t.locale.eq_ignore_ascii_case(locale))
}

fn english() -> &'static Texts {
    &TEXTS[0]
}

/// The locale a country's users get when the request names none.
fn locale_for_country(country_code: i64) -> &'static str {
    COUNTRY_LOCALES
        .iter()
        .find(|(_, codes)| codes.contains(&country_code))
        .map_or("en", |(locale, _)| *locale)
}

fn language_of(locale: &str) -> &str {
    locale.split('-').next().unwrap_or(locale)
}

/// The texts for a `locale` parameter (if any) and the user's country, by the rules above.
pub fn resolve(requested: Option<&str>, country_code: i64) -> &'static Texts {
    let by_country = find(locale_for_country(country_code)).unwrap_or_else(english);
    let Some(tag) = requested
        .map(|r| r.trim().replace('_', "-"))
        .filter(|r| !r.is_empty() && r.len() <= MAX_LOCALE_LEN)
    else {
        return by_country;
    };
    let has_region = tag.contains('-');
    if let Some(exact) = find(&tag).filter(|_| has_region) {
        return exact;
    }
    let language = language_of(&tag).to_ascii_lowercase();
    let language = ALIASES
        .iter()
        .find(|(alias, _)| *alias == language)
        .map_or(language.as_str(), |(_, to)| *to);
    if language_of(by_country.locale).eq_ignore_ascii_case(language) {
        return by_country;
    }
    find(language).unwrap_or(by_country)
}

impl Texts {
    pub fn sms(&self, app: &str, code: &str) -> String {
        self.sms.replace("{app}", app).replace("{code}", code)
    }

    pub fn action_sms(&self, app: &str, code: &str, action_message: &str) -> String {
        // The action message is the integrator's text: filled in last, so braces in it stay.
        self.action
            .replace("{app}", app)
            .replace("{code}", code)
            .replace("{action}", action_message)
    }

    /// Voice: digits separated so the speech engine reads them one by one.
    pub fn voice(&self, app: &str, code: &str) -> String {
        let spoken: Vec<String> = code.chars().map(|c| c.to_string()).collect();
        self.voice
            .replace("{app}", app)
            .replace("{code}", &spoken.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(locale: &str, app: &str, code: &str) -> String {
        resolve(Some(locale), 0).sms(app, code)
    }

    fn voice(locale: &str, app: &str, code: &str) -> String {
        resolve(Some(locale), 0).voice(app, code)
    }

    #[test]
    fn locales_fall_back_to_the_language_then_english() {
        assert_eq!(
            sms("es-MX", "Bank", "123"),
            "Tu código de verificación de Bank es: 123"
        );
        assert_eq!(
            sms("pt-BR", "Bank", "1"),
            "Seu código de verificação Bank é: 1"
        );
        assert_eq!(sms("tlh", "Bank", "1"), "Your Bank verification code is: 1");
        assert_eq!(
            voice("en", "Bank", "123"),
            "Your Bank verification code is 1, 2, 3"
        );
        assert_eq!(locale_for_country(55), "pt-BR");
    }

    #[test]
    fn the_docs_list_35_languages_each_with_one_row_and_all_three_texts() {
        assert_eq!(TEXTS.len(), 35);
        for (i, t) in TEXTS.iter().enumerate() {
            assert!(
                TEXTS[..i].iter().all(|o| o.locale != t.locale),
                "{}",
                t.locale
            );
            for text in [t.sms, t.action, t.voice] {
                assert!(
                    text.contains("{app}") && text.contains("{code}"),
                    "{}",
                    t.locale
                );
            }
            assert!(t.action.contains("{action}"), "{}", t.locale);
        }
        for (locale, _) in COUNTRY_LOCALES {
            assert!(find(locale).is_some(), "{locale}");
        }
    }

    #[test]
    fn the_region_of_the_users_country_completes_a_bare_language() {
        assert_eq!(resolve(Some("pt"), 55).locale, "pt-BR");
        assert_eq!(resolve(Some("pt"), 351).locale, "pt");
        assert_eq!(resolve(Some("pt-PT"), 1).locale, "pt");
        assert_eq!(resolve(Some("zh"), 852).locale, "zh-HK");
        assert_eq!(resolve(Some("zh"), 86).locale, "zh-CN");
        assert_eq!(resolve(Some("zh-TW"), 1).locale, "zh");
        assert_eq!(resolve(Some("zh_cn"), 1).locale, "zh-CN");
        assert_eq!(resolve(Some("es-MX"), 52).locale, "es");
        assert_eq!(resolve(Some("no-NO"), 1).locale, "nb");
        assert_eq!(resolve(None, 81).locale, "ja");
        assert_eq!(resolve(Some(""), 49).locale, "de");
        assert_eq!(resolve(Some("xx-YY"), 33).locale, "fr");
        assert_eq!(resolve(Some(&"a".repeat(10_000)), 1).locale, "en");
        assert_eq!(resolve(None, 1).locale, "en");
    }
}
