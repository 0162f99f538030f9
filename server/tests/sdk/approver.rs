//! A registered device that answers approval requests while an SDK driver runs, so that the
//! libraries see what Authy sends when a user taps "Approve" or "Deny": the status and the
//! signed callback their validators check. It speaks the device protocol
//! (docs/device-protocol.md) with the core's software signer, as a phone would
//! (`common::phone`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use reqwest::blocking::Client;

use crate::common::phone::{self, Phone, Registration};

/// The device's decision for a request's message: "Approve payment" is approved, "Deny
/// payment" denied, any other request left pending (to expire).
fn decision_for(message: &serde_json::Value) -> Option<&'static str> {
    match message.as_str()? {
        "Approve payment" => Some("approve"),
        "Deny payment" => Some("deny"),
        _ => None,
    }
}

/// Answers the requests of one user until dropped.
pub struct Approver {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Approver {
    /// Registers a device for `authy_id` (through the Authy API with `api_key`), then polls.
    pub fn start(base_url: &str, api_key: &str, http: Client, authy_id: i64) -> Approver {
        let device =
            phone::register_as(base_url, api_key, http, authy_id, &Registration::default());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut answered = HashSet::new();
            while !flag.load(Ordering::Relaxed) {
                answer_pending(&device, &mut answered);
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        Approver {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Approver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers every pending request whose message says how (errors are tried again next round:
/// the server may be stopping while the driver ends).
fn answer_pending(device: &Phone, answered: &mut HashSet<String>) {
    let Ok(challenges) = device.challenges() else {
        return;
    };
    for challenge in challenges {
        let uuid = challenge["uuid"].as_str().unwrap_or_default().to_owned();
        let Some(decision) = decision_for(&challenge["message"]) else {
            continue;
        };
        if answered.contains(&uuid) {
            continue;
        }
        let sent = device.answer(&challenge, decision);
        if sent.is_ok_and(|response| response.status().is_success()) {
            answered.insert(uuid);
        }
    }
}
