//! The device calls of `Authenticator`: registering with banks and answering their approval
//! requests (docs/device-protocol.md, docs/bindings.md).
//!
//! Every registration has its own device key, created in the app's `DeviceKeyStore` under an
//! alias named after the registration, so no two banks see the same public key. Calls that
//! reach every bank ask them concurrently and report each bank's failure next to the others'
//! results: one bank that is down, or that sends a challenge the phone refuses, hides nothing
//! of the others.

use std::collections::HashMap;
use std::sync::Arc;

use countersign_app::device::{
    Challenge, ClientError, Decision, DeviceClient, DeviceCredentials, RegistrationLink,
    SoftwareSigner,
};
use countersign_app::vault::{
    DeviceKey, DeviceRecord, EntryMeta, SHARED_PLATFORM_KEY_ALIAS, new_registration_id,
};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use super::{Authenticator, Result, locked};
use crate::error::CountersignError;
use crate::platform::{DeviceKeyStore, SignerBridge};
use crate::records::{ApprovalRequest, DeviceInfo, PendingApprovals, ServerFailure, details};

/// The platform key alias of a registration.
fn key_alias(registration_id: &str) -> String {
    format!("{SHARED_PLATFORM_KEY_ALIAS}.{registration_id}")
}

/// Deletes a key just created unless the registration that needed it was stored: a failed or
/// cancelled registration leaves no key behind.
struct NewKey<'a> {
    keys: &'a Arc<dyn DeviceKeyStore>,
    alias: String,
    kept: bool,
}

impl Drop for NewKey<'_> {
    fn drop(&mut self) {
        if !self.kept {
            // Best effort: a key that cannot be deleted is unused and unreachable.
            let _ = self.keys.delete_key(self.alias.clone());
        }
    }
}

/// Which registration a result is about.
struct Registered {
    registration_id: String,
    server_url: String,
}

impl Registered {
    fn failure(&self, error: CountersignError) -> ServerFailure {
        ServerFailure {
            registration_id: self.registration_id.clone(),
            server_url: self.server_url.clone(),
            error,
        }
    }
}

fn client_for(record: &DeviceRecord, keys: &Arc<dyn DeviceKeyStore>) -> Result<DeviceClient> {
    let signer: Arc<dyn countersign_app::device::DeviceSigner> = match &record.key {
        DeviceKey::Software(secret) => {
            Arc::new(SoftwareSigner::from_secret(secret).ok_or_else(|| {
                CountersignError::Integrity {
                    reason: "a stored software device key is damaged".into(),
                }
            })?)
        }
        DeviceKey::Platform { alias } => Arc::new(SignerBridge(keys.key(alias.clone())?)),
    };
    Ok(DeviceClient::new(
        DeviceCredentials::from_record(record),
        signer,
    )?)
}

impl Authenticator {
    /// Every registration with a client signing with its key, or why there is none.
    fn registrations(
        &self,
        keys: &Arc<dyn DeviceKeyStore>,
    ) -> Result<Vec<(Registered, Result<DeviceClient>)>> {
        let records = locked(&self.vault)?.devices()?;
        Ok(records
            .iter()
            .map(|record| {
                let registered = Registered {
                    registration_id: record.registration_id.clone(),
                    server_url: record.server_url.clone(),
                };
                (registered, client_for(record, keys))
            })
            .collect())
    }
}

/// Runs `call` for every registration that has a client, concurrently; results in
/// registration order. Dropping the returned future (cancellation) aborts every call.
async fn for_each_server<T, F, Fut>(
    registrations: Vec<(Registered, Result<DeviceClient>)>,
    call: F,
) -> Vec<(Registered, Result<T>)>
where
    T: Send + 'static,
    F: Fn(Arc<DeviceClient>) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, ClientError>> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    let mut slots: Vec<(Registered, Option<Result<T>>)> = Vec::with_capacity(registrations.len());
    for (index, (registered, client)) in registrations.into_iter().enumerate() {
        match client {
            Ok(client) => {
                let future = call(Arc::new(client));
                tasks.spawn(async move { (index, future.await.map_err(CountersignError::from)) });
                slots.push((registered, None));
            }
            Err(error) => slots.push((registered, Some(Err(error)))),
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => slots[index].1 = Some(result),
            // A task that panicked: its slot stays empty and is reported below.
            Err(_) => continue,
        }
    }
    slots
        .into_iter()
        .map(|(registered, result)| {
            let result = result.unwrap_or_else(|| {
                Err(CountersignError::Internal {
                    reason: "the request to this server failed unexpectedly".into(),
                })
            });
            (registered, result)
        })
        .collect()
}

#[uniffi::export(async_runtime = "tokio")]
impl Authenticator {
    /// Registers this device with a bank's server from its `countersign://register` link,
    /// with a new device key created in `keys` for this registration only. The registration
    /// is kept in the vault (next to any other, with this server or another) and the user's
    /// Authy-style account is added.
    pub async fn register_device(
        &self,
        link: String,
        keys: Arc<dyn DeviceKeyStore>,
        name: String,
        os: String,
        push_token: Option<String>,
    ) -> Result<DeviceInfo> {
        let link = RegistrationLink::parse(&Zeroizing::new(link))?;
        if !self.is_unlocked() {
            return Err(CountersignError::Locked);
        }
        let registration_id = new_registration_id();
        let mut new_key = NewKey {
            keys: &keys,
            alias: key_alias(&registration_id),
            kept: false,
        };
        let signer = keys.create_key(new_key.alias.clone())?;
        let (client, registration) = DeviceClient::register(
            &link,
            Arc::new(SignerBridge(signer)),
            &name,
            &os,
            push_token.as_deref(),
        )
        .await?;
        let credentials = client.credentials();
        let key = DeviceKey::Platform {
            alias: new_key.alias.clone(),
        };
        let mut vault = locked(&self.vault)?;
        vault.save_device(&credentials.to_record(&registration_id, key))?;
        new_key.kept = true;
        let account_id = match registration.account {
            Some(account) => Some(vault.add(account, EntryMeta::default())?.to_string()),
            None => None,
        };
        Ok(DeviceInfo {
            registration_id,
            server_url: credentials.server_url.clone(),
            device_id: credentials.device_id,
            authy_id: credentials.authy_id,
            account_id,
        })
    }

    /// Pending approval requests of every registration, asked concurrently. Each request is
    /// verified (server signature, user, expiry, displayable content) before it is returned;
    /// a server that fails, and each challenge refused, is listed in `failures` without
    /// hiding the others. Cancelling the call (coroutine / Task cancellation) drops the
    /// requests in flight.
    pub async fn pending_approvals(
        &self,
        keys: Arc<dyn DeviceKeyStore>,
    ) -> Result<PendingApprovals> {
        let registrations = self.registrations(&keys)?;
        let answers = for_each_server(
            registrations,
            |client| async move { client.pending().await },
        )
        .await;
        let mut found = PendingApprovals {
            requests: Vec::new(),
            failures: Vec::new(),
        };
        let mut verified: HashMap<String, (String, Challenge)> = HashMap::new();
        for (registered, answer) in answers {
            let pending = match answer {
                Ok(pending) => pending,
                Err(error) => {
                    found.failures.push(registered.failure(error));
                    continue;
                }
            };
            for refused in pending.refused {
                found.failures.push(registered.failure(refused.into()));
            }
            for challenge in pending.challenges {
                // Two registrations of one user see the same request: list it once.
                if verified.contains_key(&challenge.uuid) {
                    continue;
                }
                found.requests.push(ApprovalRequest {
                    registration_id: registered.registration_id.clone(),
                    server_url: registered.server_url.clone(),
                    uuid: challenge.uuid.clone(),
                    message: challenge.message.clone(),
                    details: details(&challenge.details),
                    expires_at: challenge.expires_at,
                    number_choices: challenge.number_choices.clone(),
                });
                verified.insert(
                    challenge.uuid.clone(),
                    (registered.registration_id.clone(), challenge),
                );
            }
        }
        *locked(&self.challenges)? = verified;
        Ok(found)
    }

    /// Approves or denies a request returned by the last `pending_approvals`, with the
    /// registration it came from; with number matching, approving needs the number the user
    /// picked. Returns the new status.
    pub async fn answer_approval(
        &self,
        keys: Arc<dyn DeviceKeyStore>,
        uuid: String,
        approve: bool,
        number: Option<u8>,
    ) -> Result<String> {
        let (registration_id, challenge) = locked(&self.challenges)?
            .get(&uuid)
            .cloned()
            .ok_or_else(|| CountersignError::InvalidInput {
                reason: "unknown request: fetch pending approvals first".into(),
            })?;
        let record = locked(&self.vault)?
            .devices()?
            .into_iter()
            .find(|record| record.registration_id == registration_id)
            .ok_or_else(|| CountersignError::InvalidInput {
                reason: "this device is no longer registered with that server".into(),
            })?;
        let client = client_for(&record, &keys)?;
        let decision = if approve {
            Decision::Approve
        } else {
            Decision::Deny
        };
        let status = client.answer(&challenge, decision, number).await?;
        locked(&self.challenges)?.remove(&uuid);
        Ok(status)
    }

    /// Tells every registration's server the push token to use (`None`: stop pushes),
    /// concurrently. Returns the registrations whose server could not be told (empty when
    /// all were).
    pub async fn update_push_token(
        &self,
        keys: Arc<dyn DeviceKeyStore>,
        token: Option<String>,
    ) -> Result<Vec<ServerFailure>> {
        let registrations = self.registrations(&keys)?;
        let answers = for_each_server(registrations, |client| {
            let token = token.clone();
            async move { client.update_push_token(token.as_deref()).await }
        })
        .await;
        Ok(answers
            .into_iter()
            .filter_map(|(registered, answer)| answer.err().map(|e| registered.failure(e)))
            .collect())
    }

    /// Every registration, by server.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        Ok(locked(&self.vault)?
            .devices()?
            .into_iter()
            .map(|d| DeviceInfo {
                registration_id: d.registration_id.clone(),
                server_url: d.server_url.clone(),
                device_id: d.device_id,
                authy_id: d.authy_id,
                account_id: None,
            })
            .collect())
    }
}
