//! `till-hub user disable NAME` (their sessions end now) and `user enable NAME`.

use till_hub::office::users::Users;

pub async fn run(users: &Users, name: &str, enable: bool) -> anyhow::Result<()> {
    if enable {
        users.enable(name).await?;
        eprintln!("office user {name}: enabled");
    } else {
        users.disable(name).await?;
        eprintln!("office user {name}: disabled; their sessions are ended");
    }
    Ok(())
}
