//! The optional state file: documents, numbering ranges and counters, the company profile and
//! tokens as JSON, written atomically
//! (temporary file + rename). Faults and request counters are not saved: they describe a run.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError};

use serde::{Deserialize, Serialize};

use crate::model::Document;
use crate::ranges::{CompanyProfile, RangeMeta};
use crate::store::{AccessToken, RefreshToken, Store, lock};

const VERSION: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    currents: &'a BTreeMap<u64, u64>,
    bills: Vec<&'a Document>,
    credit_notes: Vec<&'a Document>,
    support_documents: Vec<&'a Document>,
    debit_notes: Vec<&'a Document>,
    ranges: Vec<&'a RangeMeta>,
    company: &'a CompanyProfile,
    access_tokens: &'a HashMap<String, AccessToken>,
    refresh_tokens: &'a HashMap<String, RefreshToken>,
}

#[derive(Deserialize)]
struct Snapshot {
    version: u32,
    currents: BTreeMap<u64, u64>,
    bills: Vec<Document>,
    credit_notes: Vec<Document>,
    #[serde(default)]
    support_documents: Vec<Document>,
    #[serde(default)]
    debit_notes: Vec<Document>,
    /// Absent in files written before ranges could change: the defaults stay.
    #[serde(default)]
    ranges: Option<Vec<RangeMeta>>,
    #[serde(default)]
    company: Option<CompanyProfile>,
    #[serde(default)]
    access_tokens: HashMap<String, AccessToken>,
    #[serde(default)]
    refresh_tokens: HashMap<String, RefreshToken>,
}

/// Writes the state to `path`.
///
/// # Errors
/// I/O errors of writing or renaming the file.
pub(crate) fn save(store: &Store, path: &Path) -> io::Result<()> {
    let (currents, bills, credit_notes, support_documents, debit_notes, ranges) = {
        let docs = lock(&store.docs);
        let all = |ledger: &crate::store::Ledger| ledger.docs.values().cloned().collect::<Vec<Arc<Document>>>();
        (
            docs.currents.clone(),
            all(&docs.bills),
            all(&docs.credit_notes),
            all(&docs.support_documents),
            all(&docs.debit_notes),
            docs.ranges.values().cloned().collect::<Vec<RangeMeta>>(),
        )
    };
    let company = store.company();
    let access_tokens = store.access_tokens.read().unwrap_or_else(PoisonError::into_inner).clone();
    let refresh_tokens = lock(&store.refresh_tokens).clone();
    let snapshot = SnapshotRef {
        version: VERSION,
        currents: &currents,
        bills: bills.iter().map(AsRef::as_ref).collect(),
        credit_notes: credit_notes.iter().map(AsRef::as_ref).collect(),
        support_documents: support_documents.iter().map(AsRef::as_ref).collect(),
        debit_notes: debit_notes.iter().map(AsRef::as_ref).collect(),
        ranges: ranges.iter().collect(),
        company: &company,
        access_tokens: &access_tokens,
        refresh_tokens: &refresh_tokens,
    };
    let bytes = serde_json::to_vec(&snapshot).map_err(io::Error::other)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// Loads the state from `path` into an empty store; a missing file is an empty state.
///
/// # Errors
/// I/O errors, or `InvalidData` when the file is not a state file of this version.
pub(crate) fn load(store: &Store, path: &Path) -> io::Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{} is not a sandbox state file: {e}", path.display()))
    })?;
    if snapshot.version != VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: unsupported state version {}", path.display(), snapshot.version),
        ));
    }
    let documents = snapshot
        .bills
        .into_iter()
        .chain(snapshot.credit_notes)
        .chain(snapshot.support_documents)
        .chain(snapshot.debit_notes);
    store.restore(documents.collect(), snapshot.currents, snapshot.ranges);
    if let Some(company) = snapshot.company {
        store.update_company(|profile| *profile = company);
    }
    store.access_tokens.write().unwrap_or_else(PoisonError::into_inner).extend(snapshot.access_tokens);
    lock(&store.refresh_tokens).extend(snapshot.refresh_tokens);
    Ok(())
}
