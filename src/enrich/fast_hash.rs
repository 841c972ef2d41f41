//! The hasher of the session tables: keyed by a system and a qualified job
//! name (short text, looked up several times per entry), where SipHash's
//! per-call cost showed in profiles.
//!
//! It is the Fx hash (rustc's): a multiply and a rotate per eight bytes. Fx
//! alone is not resistant to keys chosen to collide, and a job's name is the
//! submitter's to choose: keys crafted to collide would turn each look-up of
//! up to `sessions.max_open` sessions into a scan, which slows the reader of
//! a security journal. So every hasher starts from a seed drawn once per
//! process from the standard library's random hasher keys: a collision then
//! depends on a value the journal's writer cannot know. The seed changes
//! nothing that is written (no output follows these tables' order).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FxHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A `HashSet` with [`FxHasher`].
pub(crate) type FastSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;

/// Fx: `hash = (hash.rotate_left(5) ^ word) * K` over eight-byte words,
/// from the process's seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl Default for FxHasher {
    fn default() -> FxHasher {
        FxHasher { hash: seed() }
    }
}

/// The process's seed: random keys of the standard library's hasher, hashed.
fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
    })
}

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_i64(&mut self, value: i64) {
        self.add(value as u64);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash_of(value: impl Hash) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(value)
    }

    #[test]
    fn distinct_short_keys_hash_apart_and_equal_keys_alike() {
        // Every tail length (0 to 7 bytes past a word) and a change in each byte.
        let base = "123456/QUSER/QZDASOINIT";
        let mut seen = HashSet::new();
        for end in 0..=base.len() {
            assert!(seen.insert(hash_of(&base[..end])), "prefix {end} collided");
        }
        for index in 0..base.len() {
            let mut changed = base.as_bytes().to_vec();
            changed[index] ^= 1;
            let changed = String::from_utf8(changed).unwrap();
            assert_ne!(hash_of(&changed), hash_of(base), "byte {index}");
        }
        assert_eq!(hash_of(("SYS", "JOB")), hash_of(("SYS", "JOB")));
        assert_ne!(hash_of(("SYS", "JOB")), hash_of(("SYSJ", "OB")));
    }

    /// A hasher starts from the process's seed, not from zero, so the same
    /// key hashes as no one outside the process can work out.
    #[test]
    fn hashers_start_from_the_process_seed() {
        let seeded = FxHasher::default();
        assert_eq!(seeded.finish(), seed());
        assert_eq!(seed(), seed(), "one seed per process");
        let mut unseeded = FxHasher { hash: 0 };
        unseeded.write_u64(7);
        let mut from_seed = FxHasher::default();
        from_seed.write_u64(7);
        // Only a seed of zero would give the same (one chance in 2^64).
        assert_ne!(unseeded.finish(), from_seed.finish());
    }
}
