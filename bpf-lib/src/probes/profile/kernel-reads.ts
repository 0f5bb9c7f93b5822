/* Whether BPF programs here may read kernel memory (bpf_probe_read_kernel):
 * lockdown=confidentiality refuses it, and a program that calls it then fails to
 * load. Asked once per process; an unreadable lockdown counts as allowed, as it
 * is on kernels without the lockdown LSM. */
import { readLockdown } from "../../doctor/features.js";

let allowed: boolean | undefined;

export function kernelReadsAllowed(): boolean {
  allowed ??= readLockdown() !== "confidentiality";
  return allowed;
}
