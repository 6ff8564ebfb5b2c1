//! The kernel's part of the child's containment (issue 16): a seccomp filter that refuses, with
//! `EPERM`, every system call that could reach beyond the child — opening or creating any file
//! (the child has its input as standard input and needs no other), changing one (truncate,
//! rename, link, unlink, chmod, chown, times, extended attributes), making a device or
//! directory, a socket of any kind, running a program, tracing or writing another process,
//! signalling any process but itself, mounting. Everything else (reading its input, memory,
//! threads, writing its answer to the pipe) is allowed. `no_new_privs` is set first, so the
//! filter can never be lifted; rlimits (in `contain`) bound time, memory and writes besides.

use crate::Unreadable;
use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule};
use std::collections::BTreeMap;

/// The system calls refused outright, on every architecture.
const REFUSED: &[libc::c_long] = &[
    // Files: opening (and so creating) any, changing or removing one.
    libc::SYS_openat,
    libc::SYS_openat2,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_truncate,
    libc::SYS_ftruncate,
    libc::SYS_fallocate,
    libc::SYS_unlinkat,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_linkat,
    libc::SYS_symlinkat,
    libc::SYS_mkdirat,
    libc::SYS_mknodat,
    libc::SYS_fchmod,
    libc::SYS_fchmodat,
    libc::SYS_fchown,
    libc::SYS_fchownat,
    libc::SYS_utimensat,
    libc::SYS_setxattr,
    libc::SYS_lsetxattr,
    libc::SYS_fsetxattr,
    libc::SYS_removexattr,
    libc::SYS_lremovexattr,
    libc::SYS_fremovexattr,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_chroot,
    libc::SYS_memfd_create,
    // The network, and local sockets.
    libc::SYS_socket,
    libc::SYS_socketpair,
    libc::SYS_connect,
    libc::SYS_bind,
    libc::SYS_listen,
    libc::SYS_accept,
    libc::SYS_accept4,
    // Other programs and processes.
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_ptrace,
    libc::SYS_process_vm_writev,
    libc::SYS_process_vm_readv,
    libc::SYS_kill,
    libc::SYS_tkill,
    libc::SYS_pidfd_open,
    libc::SYS_pidfd_send_signal,
];

/// The old forms x86-64 still has (aarch64 has only the `*at` forms above).
#[cfg(target_arch = "x86_64")]
const REFUSED_LEGACY: &[libc::c_long] = &[
    libc::SYS_open,
    libc::SYS_creat,
    libc::SYS_unlink,
    libc::SYS_rename,
    libc::SYS_link,
    libc::SYS_symlink,
    libc::SYS_mkdir,
    libc::SYS_rmdir,
    libc::SYS_mknod,
    libc::SYS_chmod,
    libc::SYS_chown,
    libc::SYS_lchown,
    libc::SYS_utime,
    libc::SYS_utimes,
    libc::SYS_futimesat,
];
#[cfg(not(target_arch = "x86_64"))]
const REFUSED_LEGACY: &[libc::c_long] = &[];

/// Applies the filter to the calling thread and every thread it starts afterwards.
#[allow(
    clippy::useless_conversion,
    reason = "a system call number is a c_long: i64 here, i32 on 32-bit Arm"
)]
pub fn confine() -> Result<(), Unreadable> {
    let failed = |e: &dyn std::fmt::Display| Unreadable::new(format!("cannot confine the file reader: {e}"));
    let arch = std::env::consts::ARCH.try_into().map_err(|e| failed(&e))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = REFUSED
        .iter()
        .chain(REFUSED_LEGACY)
        .map(|&call| (i64::from(call), Vec::new()))
        .collect();
    // A signal to a thread of another process (`abort` signals itself, which stays allowed).
    let own = u64::from(std::process::id());
    let other_process =
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, own).map_err(|e| failed(&e))?;
    rules.insert(
        i64::from(libc::SYS_tgkill),
        vec![SeccompRule::new(vec![other_process]).map_err(|e| failed(&e))?],
    );
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| failed(&e))?;
    let program: seccompiler::BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| failed(&e))?;
    seccompiler::apply_filter(&program).map_err(|e| failed(&e))
}
