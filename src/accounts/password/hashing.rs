//! argon2id hashing and verification on a few dedicated, low-priority threads.
//!
//! Why dedicated threads rather than tokio's blocking pool:
//! - each thread keeps its 19 MiB argon2 working memory between hashes (shared through a small
//!   spare list) instead of allocating and faulting in 19 MiB per hash, which made every hash
//!   about a third slower under load and left the freed blocks behind in one glibc arena per
//!   blocking-pool thread (hundreds of MiB resident after a login storm);
//! - the threads run at a lower scheduling priority (nice 10), so a login storm uses every idle
//!   cycle yet never delays the requests that need no hash: the kernel runs those first.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::{self};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::accounts::secret::Secret;

/// OWASP's argon2id parameters: m = 19456 KiB, t = 2, p = 1 (spec §2).
const PARAMS: Params = match Params::new(19_456, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("argon2 parameters are out of range"),
};

/// Salt length of new hashes (the PHC recommendation, as the argon2 crate uses).
const SALT_LEN: usize = 16;
/// Output length of new hashes (the argon2 crate's default).
const OUTPUT_LEN: usize = Params::DEFAULT_OUTPUT_LEN;
/// After this long without work the threads give their working memory back.
const IDLE_RELEASE: Duration = Duration::from_secs(10);
/// The nice value of the hashing threads (0 is normal, 19 the lowest priority).
const HASHING_NICE: i32 = 10;

/// Hashes and verifies on `max_concurrent` dedicated threads, so at most that many hashes run
/// at once; a login storm queues here instead of starving other requests. A queued job whose
/// caller has given up (the request was dropped) is skipped.
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    workers: usize,
    /// PHC string with a random salt and a random output: verified instead when there is no
    /// usable hash, so that an unknown user costs one full argon2 computation too. No password
    /// produces that output (it is not the hash of anything known).
    dummy_phc: Arc<str>,
}

/// What the threads share: the queue, and working memory not in use right now.
struct Shared {
    queue: Mutex<mpsc::Receiver<Job>>,
    spare: Mutex<Vec<Vec<Block>>>,
}

enum Job {
    Hash {
        password: Secret,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: Secret,
        stored: Option<String>,
        dummy: Arc<str>,
        reply: oneshot::Sender<bool>,
    },
    /// Occupies a thread until the sender side is dropped (tests only).
    #[cfg(test)]
    Hold(mpsc::Receiver<()>),
}

/// Internal failure of hashing; never carries a password or a hash.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing thread failed")]
    Worker,
    #[error("password hashing failed: {0}")]
    Argon2(#[from] password_hash::Error),
    #[error("password hashing queue is closed")]
    QueueClosed,
}

impl From<password_hash::phc::Error> for HashError {
    fn from(err: password_hash::phc::Error) -> Self {
        Self::Argon2(err.into())
    }
}

impl From<argon2::Error> for HashError {
    fn from(err: argon2::Error) -> Self {
        Self::Argon2(err.into())
    }
}

impl Hasher {
    /// `max_concurrent` is the number of hashes allowed to run at once (about the core count);
    /// 0 is taken as 1. Starts that many threads; they end when the last clone is dropped.
    pub fn new(max_concurrent: usize) -> Self {
        let workers = max_concurrent.max(1);
        let (jobs, queue) = mpsc::channel();
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            spare: Mutex::new(Vec::new()),
        });
        for n in 0..workers {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("passgate-hash-{n}"))
                .spawn(move || work(&shared))
                .expect("cannot start a password hashing thread");
        }
        Self {
            inner: Arc::new(Inner {
                jobs,
                workers,
                dummy_phc: random_phc().into(),
            }),
        }
    }

    /// Hashes with argon2id v19 (m=19456, t=2, p=1) and a fresh random salt; returns the PHC
    /// string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash {
            password: password.clone(),
            reply,
        })
        .map_err(|_| HashError::QueueClosed)?;
        answer.await.map_err(|_| HashError::Worker)?
    }

    /// Whether `password` matches the stored PHC hash.
    ///
    /// `phc = None` (unknown user) verifies against the dummy hash and returns false, taking the
    /// same time. A stored hash that cannot be used (malformed, another algorithm, no salt or
    /// output) is false too, after the same dummy verification. Internal failures are false.
    pub async fn verify(&self, password: &Secret, phc: Option<&str>) -> bool {
        let (reply, answer) = oneshot::channel();
        let job = Job::Verify {
            password: password.clone(),
            stored: phc.map(str::to_owned),
            dummy: Arc::clone(&self.inner.dummy_phc),
            reply,
        };
        if self.submit(job).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }

    /// Queues a job; the metrics' queue depth counts it until a thread takes it.
    fn submit(&self, job: Job) -> Result<(), mpsc::SendError<Job>> {
        // Counted before it is sent, so that a thread taking it at once never shows -1.
        crate::metrics::argon2_queue(1.0);
        self.inner.jobs.send(job).inspect_err(|_| {
            crate::metrics::argon2_queue(-1.0);
        })
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("workers", &self.inner.workers)
            .finish_non_exhaustive()
    }
}

/// The loop of one hashing thread.
fn work(shared: &Shared) {
    lower_priority();
    loop {
        let job = {
            let Ok(queue) = shared.queue.lock() else {
                return;
            };
            match queue.recv_timeout(IDLE_RELEASE) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    // Idle: the memory of every thread is in the spare list now.
                    drop(queue);
                    if let Ok(mut spare) = shared.spare.lock()
                        && !spare.is_empty()
                    {
                        spare.clear();
                        spare.shrink_to_fit();
                        // And the heap the busy spell left free (request buffers).
                        crate::malloc::release_free_memory();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        crate::metrics::argon2_queue(-1.0);
        let mut memory = shared
            .spare
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default();
        // A panic fails only its own job (its reply is dropped); the thread carries on.
        let _ = catch_unwind(AssertUnwindSafe(|| run(job, &mut memory)));
        if let Ok(mut spare) = shared.spare.lock() {
            spare.push(memory);
        }
    }
}

fn run(job: Job, memory: &mut Vec<Block>) {
    match job {
        Job::Hash { password, reply } => {
            if reply.is_closed() {
                return;
            }
            let mut salt = [0u8; SALT_LEN];
            rand::fill(&mut salt);
            let _ = reply.send(hash_with_salt(password.expose().as_bytes(), &salt, memory));
        }
        Job::Verify {
            password,
            stored,
            dummy,
            reply,
        } => {
            if reply.is_closed() {
                return;
            }
            let matches = verify_blocking(
                password.expose().as_bytes(),
                stored.as_deref(),
                &dummy,
                memory,
            );
            let _ = reply.send(matches);
        }
        #[cfg(test)]
        Job::Hold(release) => {
            let _ = release.recv();
        }
    }
}

/// Working memory of at least `blocks` blocks: the thread's own buffer, grown to the
/// production size once; larger (foreign) parameters get a buffer of their own.
fn memory_for(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        let len = Ord::max(blocks, PARAMS.block_count());
        let mut fresh = Vec::with_capacity(len);
        advise_huge_pages(fresh.spare_capacity_mut());
        fresh.resize(len, Block::default());
        *memory = fresh;
    }
    &mut memory[..blocks]
}

fn argon2id() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

/// The PHC string of `password` with `salt`, exactly as `argon2::PasswordHasher` writes it.
fn hash_with_salt(
    password: &[u8],
    salt: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let mut out = [0u8; OUTPUT_LEN];
    argon2id().hash_password_into_with_memory(
        password,
        salt,
        &mut out,
        memory_for(memory, PARAMS.block_count()),
    )?;
    phc_string(salt, &out)
}

fn phc_string(salt: &[u8], output: &[u8]) -> Result<String, HashError> {
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&PARAMS)?,
        salt: Some(Salt::new(salt)?),
        hash: Some(Output::new(output)?),
    }
    .to_string())
}

/// A well-formed PHC string with our parameters, a random salt and a random output.
fn random_phc() -> String {
    let mut salt = [0u8; SALT_LEN];
    let mut output = [0u8; OUTPUT_LEN];
    rand::fill(&mut salt);
    rand::fill(&mut output);
    phc_string(&salt, &output).expect("lengths and parameters are valid")
}

/// Recomputes `hash` for `password` with the algorithm, version and parameters the PHC string
/// names (as `argon2::PasswordVerifier` does) and compares in constant time. `Err` when
/// nothing could be computed (unsupported algorithm, version or parameters).
fn check(password: &[u8], hash: &PasswordHash, memory: &mut Vec<Block>) -> Result<bool, HashError> {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err(HashError::Argon2(password_hash::Error::PasswordInvalid));
    };
    let algorithm = Algorithm::try_from(hash.algorithm.as_str())?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(hash)?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if blocks <= PARAMS.block_count() {
        argon2.hash_password_into_with_memory(
            password,
            salt,
            &mut out,
            memory_for(memory, blocks),
        )?;
    } else {
        argon2.hash_password_into(password, salt, &mut out)?;
    }
    Ok(bool::from(out.as_slice().ct_eq(expected.as_ref())))
}

fn verify_blocking(
    password: &[u8],
    stored: Option<&str>,
    dummy_phc: &str,
    memory: &mut Vec<Block>,
) -> bool {
    if let Some(hash) = stored.and_then(|phc| PasswordHash::new(phc).ok())
        && hash.salt.is_some()
        && hash.hash.is_some()
    {
        // An error means unsupported algorithm or parameters: nothing was computed yet.
        if let Ok(matches) = check(password, &hash, memory) {
            return matches;
        }
    }
    if let Ok(dummy) = PasswordHash::new(dummy_phc) {
        let _ = check(password, &dummy, memory);
    }
    false
}

/// Asks the kernel to back `memory` with transparent huge pages where it can. argon2 reads
/// its 19 MiB in a data-dependent order, so with 4 KiB pages nearly every block read misses
/// the TLB; 2 MiB pages cut those misses, most of all when every core hashes at once. Called
/// on the fresh allocation before its first write.
#[cfg(target_os = "linux")]
fn advise_huge_pages(memory: &mut [std::mem::MaybeUninit<Block>]) {
    unsafe extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    const MADV_HUGEPAGE: i32 = 14;
    const PAGE: usize = 4096;
    let start = memory.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(memory);
    let first = start.next_multiple_of(PAGE);
    let last = end - end % PAGE;
    if last > first {
        // SAFETY: the range lies inside `memory`, an allocation this thread owns; the advice
        // changes how the kernel backs the pages, never their contents. Failure (no THP
        // support) leaves ordinary pages.
        unsafe {
            madvise(first as *mut std::ffi::c_void, last - first, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &mut [std::mem::MaybeUninit<Block>]) {}

/// Lowers the calling thread's scheduling priority (Linux: nice is per thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    unsafe extern "C" {
        fn setpriority(which: i32, who: u32, prio: i32) -> i32;
    }
    const PRIO_PROCESS: i32 = 0;
    // SAFETY: a plain system call on the calling thread (`who` = 0); failure only leaves the
    // priority as it was.
    unsafe {
        setpriority(PRIO_PROCESS, 0, HASHING_NICE);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests;
