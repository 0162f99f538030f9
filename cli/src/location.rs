//! Where the vault lives when `--vault` (or `COUNTERSIGN_VAULT`) does not say: the
//! platform's per-user data directory, so that `countersign vault …` finds the same vault
//! from any folder — `$XDG_DATA_HOME` (else `~/.local/share`) on Linux and the other Unixes,
//! `~/Library/Application Support` on macOS, `%APPDATA%` on Windows, each with a
//! `countersign` folder. Plain environment logic, as the XDG Base Directory specification
//! and the platforms' conventions state it: no crate needed for three rules.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The vault's file name, also the name earlier releases used in the current folder.
pub const VAULT_FILE_NAME: &str = "countersign.vault";

/// The folder under the data directory.
const APP_DIR: &str = "countersign";

/// The vault a command works on, and whether the user named it.
pub struct VaultLocation {
    pub path: PathBuf,
    /// Named by `--vault` or `COUNTERSIGN_VAULT` (else the default location).
    pub explicit: bool,
}

impl VaultLocation {
    /// `given` (from `--vault` / `COUNTERSIGN_VAULT`), else the default location.
    pub fn resolve(given: Option<&Path>) -> Result<VaultLocation, CliError> {
        if let Some(path) = given {
            return Ok(VaultLocation {
                path: path.to_owned(),
                explicit: true,
            });
        }
        let data = data_dir(&|name| std::env::var_os(name)).ok_or_else(|| {
            CliError::Usage(
                "cannot find the user's data directory (no HOME): pass --vault PATH".into(),
            )
        })?;
        Ok(VaultLocation {
            path: data.join(APP_DIR).join(VAULT_FILE_NAME),
            explicit: false,
        })
    }

    /// Creates the default location's folder, readable by the user only (it holds the
    /// vault and its SQLite journal). A folder named by the user is left as it is.
    pub fn prepare_for_create(&self) -> Result<(), CliError> {
        let Some(folder) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) else {
            return Ok(());
        };
        if self.explicit || folder.exists() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(folder)
            .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", folder.display())))
    }

    /// The error for a vault that does not exist: where it was looked for and the command
    /// that creates it (and, for the default location, a vault left in the current folder
    /// by an earlier release).
    pub fn missing(&self) -> CliError {
        let shown = self.path.display();
        let create = if self.explicit {
            format!("countersign vault --vault {shown} init")
        } else {
            "countersign vault init".to_owned()
        };
        let mut message = format!("no vault at {shown}: create one with `{create}`");
        let legacy = Path::new(VAULT_FILE_NAME);
        if !self.explicit && legacy.is_file() {
            message.push_str(&format!(
                ", or use the one in this folder with --vault {VAULT_FILE_NAME}"
            ));
        }
        CliError::Usage(message)
    }
}

/// The per-user data directory, from the environment `var` reads (a parameter so the rules
/// can be tested without changing the process's environment).
fn data_dir(var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    // Only absolute paths count: the XDG specification says relative ones are ignored.
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if cfg!(windows) {
        return absolute("APPDATA");
    }
    let home = absolute("HOME");
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library").join("Application Support"));
    }
    absolute("XDG_DATA_HOME").or_else(|| home.map(|h| h.join(".local").join("share")))
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.into())
        }
    }

    #[test]
    fn xdg_data_home_then_home() {
        let both = env(&[("XDG_DATA_HOME", "/data"), ("HOME", "/home/a")]);
        assert_eq!(data_dir(&both), Some(PathBuf::from("/data")));
        let home = env(&[("HOME", "/home/a")]);
        assert_eq!(data_dir(&home), Some(PathBuf::from("/home/a/.local/share")));
        // A relative XDG_DATA_HOME is ignored, as the specification says.
        let relative = env(&[("XDG_DATA_HOME", "data"), ("HOME", "/home/a")]);
        assert_eq!(
            data_dir(&relative),
            Some(PathBuf::from("/home/a/.local/share"))
        );
        assert_eq!(data_dir(&env(&[])), None);
    }
}
