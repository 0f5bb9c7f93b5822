/* Kernel call paths as a profiler would fold them (root first): chart tests and the gallery draw
 * flame graphs of these, each adding a long user-space name of its own. */
export const KERNEL_PATHS: readonly string[][] = [
  ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_read", "ksys_read", "vfs_read", "ext4_file_read_iter", "filemap_read", "copy_page_to_iter"],
  ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_read", "ksys_read", "vfs_read", "ext4_file_read_iter", "filemap_read", "filemap_get_pages"],
  ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_write", "ksys_write", "vfs_write", "ext4_buffered_write_iter", "generic_perform_write"],
  ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_openat", "do_sys_openat2", "do_filp_open", "path_openat", "link_path_walk"],
  ["entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_epoll_wait", "do_epoll_wait", "schedule_hrtimeout_range", "schedule", "__schedule"],
  ["asm_sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt", "__sysvec_apic_timer_interrupt", "hrtimer_interrupt", "__hrtimer_run_queues", "tick_nohz_handler", "update_process_times"],
];
