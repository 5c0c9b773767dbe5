//! glibc malloc settings for a long-running server with a few large, short-lived blocks.

/// Set before any thread starts. A fixed mmap threshold keeps large blocks (the hashing
/// threads' 19 MiB argon2 memory) in their own mappings, returned to the system when freed;
/// left dynamic, glibc raises the threshold past 19 MiB after the first such free and the
/// memory then stays in the heap for good (~100 MiB resident after a login storm). Two arenas
/// instead of one per thread (up to 8 per core) keep the small allocations of the few threads
/// together.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: plain configuration calls, made before any other thread exists.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
        mallopt(M_ARENA_MAX, 2);
    }
}

/// Gives the memory freed after start-up back to the system. Building the router and the
/// OpenAPI document peaks at about 2 MiB of short-lived allocations; glibc keeps freed heap
/// pages mapped unless asked, so without this they stay resident for the life of the process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: thread-safe in glibc; it only returns free pages to the system.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
