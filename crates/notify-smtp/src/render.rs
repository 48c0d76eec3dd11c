//! Templates: `<name>.<lang>.subject.txt`, `<name>.<lang>.txt` and `<name>.<lang>.html`
//! (which extends `layout.html`). HTML is auto-escaped; plain text is not.

use std::collections::BTreeMap;

use accueil_domain::notify::OutboundMail;
use minijinja::Environment;

use crate::embedded::TEMPLATES;

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// A template failed to render (a bug: every template is checked by a test).
#[derive(Debug, thiserror::Error)]
#[error("cannot render mail template {template}: {message}")]
pub struct RenderError {
    /// Which file.
    pub template: String,
    /// Why.
    pub message: String,
}

/// Renders mails from the embedded templates.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
    app_name: String,
}

impl Renderer {
    /// A renderer; `app_name` is shown in every mail.
    pub fn new(app_name: impl Into<String>) -> Self {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The sources are compiled in and covered by tests; a failure here is a bug that
            // the first render reports.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "mail template does not parse");
            }
        }
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        Self {
            env,
            app_name: app_name.into(),
        }
    }

    /// Renders the three parts of `mail`.
    ///
    /// # Errors
    /// A [`RenderError`] when a template is missing or uses a value the mail does not have.
    pub fn render(&self, mail: &OutboundMail) -> Result<Rendered, RenderError> {
        let mut ctx: BTreeMap<&str, &str> = mail
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        ctx.insert("app_name", &self.app_name);
        ctx.insert("email", mail.to.as_str());
        ctx.insert("language", mail.language.as_str());
        let base = format!("{}.{}", mail.template.as_str(), mail.language.as_str());
        let one = |suffix: &str, ctx: &BTreeMap<&str, &str>| {
            let name = format!("{base}.{suffix}");
            self.env
                .get_template(&name)
                .and_then(|t| t.render(ctx))
                .map_err(|e| RenderError {
                    template: name,
                    message: e.to_string(),
                })
        };
        let subject = one("subject.txt", &ctx)?.trim().to_owned();
        let text = one("txt", &ctx)?;
        let with_subject = {
            let mut c = ctx.clone();
            c.insert("subject", &subject);
            c
        };
        let html = one("html", &with_subject)?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

#[cfg(test)]
mod tests {
    use accueil_domain::identity::Email;
    use accueil_domain::notify::{Language, MailTemplate};

    use super::*;

    fn mail(template: MailTemplate, language: Language, name: &str) -> OutboundMail {
        let mut vars = BTreeMap::new();
        vars.insert("name".to_owned(), name.to_owned());
        vars.insert(
            "link".to_owned(),
            "https://app.example/verify-email?token=abc&x=1".to_owned(),
        );
        vars.insert("new_email".to_owned(), "new@example.org".to_owned());
        vars.insert("partner".to_owned(), "Bob".to_owned());
        vars.insert("tenant".to_owned(), "Acme".to_owned());
        vars.insert("role".to_owned(), "AGENT".to_owned());
        vars.insert("inviter".to_owned(), "Ann".to_owned());
        OutboundMail {
            to: Email::parse("zoe@example.org").unwrap(),
            language,
            template,
            vars,
        }
    }

    #[test]
    fn every_template_renders_in_every_language() {
        let r = Renderer::new("Accueil");
        for t in MailTemplate::ALL {
            for lang in [Language::En, Language::Fr] {
                let out = r.render(&mail(t, lang, "Zoé")).unwrap();
                assert!(
                    !out.subject.is_empty() && !out.subject.contains('\n'),
                    "{t:?} {lang:?}"
                );
                assert!(out.text.contains("Zoé"), "{t:?} {lang:?}: {}", out.text);
                assert!(out.html.contains("<html lang=\"") && out.html.contains("Zoé"));
            }
        }
    }

    #[test]
    fn languages_differ() {
        let r = Renderer::new("Accueil");
        let en = r
            .render(&mail(MailTemplate::VerifyEmail, Language::En, "Zoé"))
            .unwrap();
        let fr = r
            .render(&mail(MailTemplate::VerifyEmail, Language::Fr, "Zoé"))
            .unwrap();
        assert_eq!(en.subject, "Confirm your e-mail address");
        assert_eq!(fr.subject, "Confirmez votre adresse e-mail");
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let r = Renderer::new("Accueil");
        let out = r
            .render(&mail(
                MailTemplate::Welcome,
                Language::En,
                "<script>alert(1)</script>",
            ))
            .unwrap();
        assert!(!out.html.contains("<script>"));
        assert!(out.html.contains("&lt;script&gt;"));
        assert!(out.text.contains("<script>"));
        let link = r
            .render(&mail(MailTemplate::VerifyEmail, Language::En, "Zoé"))
            .unwrap();
        assert!(
            link.text
                .contains("https://app.example/verify-email?token=abc&x=1")
        );
        assert!(link.html.contains("token=abc&amp;x=1"));
    }

    #[test]
    fn a_missing_value_is_an_error_not_a_blank() {
        let r = Renderer::new("Accueil");
        let mut m = mail(MailTemplate::VerifyEmail, Language::En, "Zoé");
        m.vars.remove("link");
        assert!(r.render(&m).is_err());
    }
}
