//! `till-hub user passwd NAME [--password-stdin]`: a new password; the
//! lockout is lifted and the user's sessions end.

use till_hub::office::users::Users;

pub async fn run(users: &Users, name: &str, password_stdin: bool) -> anyhow::Result<()> {
    let password = super::new_password(name, password_stdin)?;
    users.set_password(name, &password).await?;
    eprintln!("office user {name}: password changed; lockout lifted, sessions ended");
    Ok(())
}
