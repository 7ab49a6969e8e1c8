//! `till-hub user add NAME --role read|admin [--language en|bn|km] [--password-stdin]`

use till_hub::office::model::Role;
use till_hub::office::users::Users;

pub async fn run(
    users: &Users,
    name: &str,
    role: Role,
    language: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let password = super::new_password(name, password_stdin)?;
    let user = users.add(name, &password, role, language).await?;
    eprintln!(
        "office user {} added ({}{}); they sign in at /office/ on this hub",
        user.username,
        role.as_str(),
        user.language
            .as_deref()
            .map(|l| format!(", language {l}"))
            .unwrap_or_default()
    );
    Ok(())
}
