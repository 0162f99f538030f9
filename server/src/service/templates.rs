//! Message texts per locale (English fallback). `{app}`, `{code}` and `{action}` are filled in.

const SMS: &[(&str, &str)] = &[
    ("en", "Your {app} verification code is: {code}"),
    ("es", "Tu código de verificación de {app} es: {code}"),
    ("fr", "Votre code de vérification {app} est : {code}"),
    ("de", "Ihr {app} Bestätigungscode lautet: {code}"),
    ("it", "Il tuo codice di verifica {app} è: {code}"),
    ("pt", "O seu código de verificação {app} é: {code}"),
    ("pt-BR", "Seu código de verificação {app} é: {code}"),
    ("nl", "Uw {app} verificatiecode is: {code}"),
];

const ACTION: &[(&str, &str)] = &[
    ("en", "{action}\nYour {app} code: {code}"),
    ("es", "{action}\nTu código de {app}: {code}"),
    ("fr", "{action}\nVotre code {app} : {code}"),
    ("de", "{action}\nIhr {app} Code: {code}"),
    ("it", "{action}\nIl tuo codice {app}: {code}"),
    ("pt", "{action}\nO seu código {app}: {code}"),
    ("pt-BR", "{action}\nSeu código {app}: {code}"),
    ("nl", "{action}\nUw {app} code: {code}"),
];

const VOICE: &[(&str, &str)] = &[
    ("en", "Your {app} verification code is {code}"),
    ("es", "Su código de verificación de {app} es {code}"),
    ("fr", "Votre code de vérification {app} est {code}"),
    ("de", "Ihr {app} Bestätigungscode lautet {code}"),
    ("it", "Il suo codice di verifica {app} è {code}"),
    ("pt", "O seu código de verificação {app} é {code}"),
    ("pt-BR", "Seu código de verificação {app} é {code}"),
    ("nl", "Uw {app} verificatiecode is {code}"),
];

/// The locale a country's users get when the request names none.
pub fn locale_for_country(country_code: i64) -> &'static str {
    match country_code {
        34 | 52 | 54 | 56 | 57 | 58 | 51 | 593 | 502 | 503 | 504 | 505 | 506 | 507 | 591 | 595
        | 598 => "es",
        33 | 32 | 41 | 352 | 377 => "fr",
        49 | 43 | 423 => "de",
        39 | 378 => "it",
        351 | 244 | 258 => "pt",
        55 => "pt-BR",
        31 => "nl",
        _ => "en",
    }
}

fn pick(table: &'static [(&'static str, &'static str)], locale: &str) -> &'static str {
    let exact = table.iter().find(|(l, _)| l.eq_ignore_ascii_case(locale));
    let language = locale.split(['-', '_']).next().unwrap_or("en");
    let base = table.iter().find(|(l, _)| l.eq_ignore_ascii_case(language));
    exact
        .or(base)
        .or(table.first())
        .map(|(_, t)| *t)
        .unwrap_or("{code}")
}

pub fn sms(locale: &str, app: &str, code: &str) -> String {
    pick(SMS, locale)
        .replace("{app}", app)
        .replace("{code}", code)
}

pub fn action_sms(locale: &str, app: &str, code: &str, action_message: &str) -> String {
    pick(ACTION, locale)
        .replace("{action}", action_message)
        .replace("{app}", app)
        .replace("{code}", code)
}

/// Voice: digits separated so the speech engine reads them one by one.
pub fn voice(locale: &str, app: &str, code: &str) -> String {
    let spoken: Vec<String> = code.chars().map(|c| c.to_string()).collect();
    pick(VOICE, locale)
        .replace("{app}", app)
        .replace("{code}", &spoken.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
