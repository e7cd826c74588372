//! argon2 with working memory kept per hashing thread.
//!
//! The argon2 crate allocates its working memory (m KiB, 64-byte aligned) for
//! every hash and frees it after. glibc does not reuse those aligned
//! multi-MiB blocks well, so under a burst of logins the heap grew with the
//! number of requests, not the number of hashing threads (a 200-login burst
//! with two hashing threads peaked at 235 MiB RSS). Each hashing thread now
//! allocates its memory once and reuses it: memory is bounded by
//! `--hash-concurrency` × `--hash-memory-kib`.
//!
//! That memory is also asked to sit on 2 MiB pages (`MADV_HUGEPAGE`).
//! argon2 reads a block at a data-dependent place in all 19 MiB for every
//! block it writes: 4,864 small pages, more than the core's TLB holds. Alone
//! on a core that costs nothing measurable, but every time the hash is
//! interrupted (a request to parse, a commit to sync) the other work evicts
//! the page-table entries and walks, and the hash pays for them afterwards:
//! in the benchmark a hash in the server took 3-4.5% longer than the same
//! hash in an idle loop; on huge pages, under 1%.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::mem::MaybeUninit;

/// Hashes needing more than this many 1 KiB blocks (imported hashes with large
/// parameters) get temporary memory, so that one odd hash cannot pin 1 GiB.
const KEEP_AT_MOST_BLOCKS: usize = 128 * 1024;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn hash_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), String> {
    let needed = argon2.params().block_count();
    if needed > KEEP_AT_MOST_BLOCKS {
        return argon2
            .hash_password_into(password, salt, out)
            .map_err(|e| e.to_string());
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            if blocks.capacity() < needed {
                // Advised before the first touch, so the pages come in huge.
                *blocks = Vec::with_capacity(needed);
                advise_huge_pages(blocks.spare_capacity_mut());
            }
            blocks.resize(needed, Block::default());
        }
        let memory = blocks.get_mut(..needed).ok_or("argon2 memory")?;
        argon2
            .hash_password_into_with_memory(password, salt, out, memory)
            .map_err(|e| e.to_string())
    })
}

/// Asks Linux to back the whole 2 MiB pages inside `memory` with transparent
/// huge pages. Advice only: where THP is off or unsupported the call fails
/// and nothing changes, so its result is ignored.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge_pages<T>(memory: &mut [MaybeUninit<T>]) {
    const HUGE: usize = 2 << 20;
    let start = memory.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(memory);
    let (from, to) = (start.div_ceil(HUGE) * HUGE, end / HUGE * HUGE);
    if to > from {
        // SAFETY: [from, to) lies inside `memory`, which is borrowed mutably
        // (nobody else uses it) and stays allocated for the call. The advice
        // changes how the kernel backs those pages, never what they hold, and
        // dereferences nothing.
        let _ = unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_memory: &mut [MaybeUninit<T>]) {}

/// A new argon2id PHC string with a fresh random salt.
pub fn hash(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, String> {
    let salt = argon2::password_hash::try_generate_salt().map_err(|e| e.to_string())?;
    let len = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut out = vec![0u8; len];
    hash_into(argon2, password, &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a parsed argon2 hash, computed with the hash's
/// own algorithm, version and parameters. `Output` compares in constant time.
pub fn verify(password: &[u8], parsed: &PasswordHash) -> Result<bool, String> {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err("the hash has no salt or no output".into());
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let params = Params::try_from(parsed).map_err(|e| e.to_string())?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    hash_into(&argon2, password, salt.as_ref(), &mut out)?;
    Ok(Output::new(&out).map_err(|e| e.to_string())? == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    /// Hashes made here verify with the crate's own verifier and the other way
    /// round, at two sizes in a row (the kept memory is reused, not re-zeroed).
    #[test]
    fn agrees_with_the_argon2_crate_both_ways() {
        for m in [512, 256, 1024] {
            let argon2 = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(m, 2, 1, None).unwrap(),
            );
            let ours = hash(&argon2, b"correct horse").unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(argon2.verify_password(b"correct horse", &parsed).is_ok());
            assert!(argon2.verify_password(b"wrong", &parsed).is_err());

            let theirs = argon2.hash_password(b"correct horse").unwrap();
            assert!(verify(b"correct horse", &theirs).unwrap());
            assert!(!verify(b"correct hors", &theirs).unwrap());
        }
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(256, 1, 1, None).unwrap(),
        );
        let theirs = argon2i.hash_password(b"x").unwrap();
        assert!(verify(b"x", &theirs).unwrap());
    }

    /// The kept memory's mapping carries the huge-page advice (`hg` in its
    /// VmFlags) wherever the kernel has THP at all. Whether huge pages were
    /// then free to use is the kernel's business, so that is not asserted.
    #[cfg(target_os = "linux")]
    #[test]
    fn kept_memory_is_advised_onto_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            return; // a kernel without THP: the advice cannot exist
        }
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        hash(&argon2, b"correct horse").unwrap();
        let middle =
            BLOCKS.with_borrow(|b| b.as_ptr() as usize + std::mem::size_of_val(&b[..]) / 2);
        // smaps: a "lo-hi perms …" line per mapping, then its fields.
        let range = |line: &str| {
            let (lo, hi) = line.split_once(' ')?.0.split_once('-')?;
            Some(usize::from_str_radix(lo, 16).ok()?..usize::from_str_radix(hi, 16).ok()?)
        };
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some(r) = range(line) {
                inside = r.contains(&middle);
            } else if let Some(f) = line.strip_prefix("VmFlags:").filter(|_| inside) {
                flags = Some(f.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
            }
        }
        let flags = flags.expect("the hash memory's mapping in /proc/self/smaps");
        assert!(flags.iter().any(|f| f == "hg"), "VmFlags {flags:?}");
    }
}
