//! How commands name an account: a base32 secret with parameters, or an otpauth URI.

use clap::Args;
use countersign_app::otp::Algorithm;
use countersign_app::{Account, OtpParameters, Secret, otpauth};

use crate::error::CliError;

#[derive(Args, Debug)]
pub struct AccountArgs {
    /// Base32 secret (or the COUNTERSIGN_SECRET environment variable, which keeps it out
    /// of the process list).
    #[arg(
        long,
        env = "COUNTERSIGN_SECRET",
        hide_env_values = true,
        conflicts_with = "uri",
        required_unless_present = "uri"
    )]
    secret: Option<String>,
    /// SHA1, SHA256 or SHA512.
    #[arg(long, default_value = "SHA1", requires = "secret")]
    algorithm: String,
    /// Number of digits, 6 to 10.
    #[arg(long, default_value_t = 6, requires = "secret")]
    digits: u32,
    /// Seconds per code.
    #[arg(long, default_value_t = 30, requires = "secret")]
    period: u32,
    /// An otpauth:// URI instead of --secret.
    #[arg(long)]
    uri: Option<String>,
}

impl AccountArgs {
    /// The account, counter-based when `counter` is given.
    pub fn account(&self, counter: Option<u64>) -> Result<Account, CliError> {
        let account = match (&self.secret, &self.uri) {
            (_, Some(uri)) => otpauth::parse(uri)?.account,
            (Some(secret), None) => {
                let algorithm = Algorithm::from_name(&self.algorithm).ok_or_else(|| {
                    CliError::Usage(format!(
                        "unsupported algorithm \"{}\" (SHA1, SHA256 or SHA512)",
                        self.algorithm
                    ))
                })?;
                let params = match counter {
                    Some(counter) => OtpParameters::hotp(algorithm, self.digits, counter)?,
                    None => OtpParameters::totp(algorithm, self.digits, self.period)?,
                };
                Account::new(None, "", Secret::from_base32(secret)?, params)
            }
            (None, None) => return Err(CliError::Usage("give --secret or --uri".into())),
        };
        Ok(match counter {
            Some(counter) => {
                if account.params.counter().is_none() {
                    return Err(CliError::Usage("--counter needs an hotp account".into()));
                }
                Account {
                    params: account.params.with_counter(counter),
                    ..account
                }
            }
            None => account,
        })
    }
}
