/* What every run of xdp.bpf.c shares: checking the options (rules, filter), the
 * privileges to attach, and the common .rodata settings. */
import type { BpfObject } from "../../libbpf/object.js";
import { privileges, requireTracingPrivileges } from "../../privileges.js";
import { InvalidArgumentError, PermissionError } from "../../errors.js";
import { optionsObject } from "../../options/shapes.js";
import { MAX_RULES } from "./layout.js";
import { encodeMatch, encodeRules } from "./match.js";
import type { RuleInfo } from "./totals.js";
import type { XdpOptions } from "./types.js";

export const DEFAULT_MAX_KEYS = 10240;

export function checkOptions(options: XdpOptions): { rules: RuleInfo[]; ruleBytes: Uint8Array; where: Uint8Array | null; whereText: string | null } {
  const opts = optionsObject(options, "xdp()");
  const known = ["mode", "rules", "dryRun", "where"];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new InvalidArgumentError(`xdp(): unknown option "${k}" (options: ${known.join(", ")})`);
  if (opts.mode !== undefined && !["auto", "native", "generic"].includes(opts.mode)) throw new InvalidArgumentError(`xdp(): mode must be "auto", "native" or "generic", got ${JSON.stringify(opts.mode)}`);
  const enc = encodeRules(opts.rules ?? [], MAX_RULES);
  if (opts.dryRun && enc.rules.length === 0) throw new InvalidArgumentError("xdp(): dryRun counts what rules would drop; give rules too");
  const where = opts.where ? encodeMatch(opts.where, "where") : null;
  return { rules: enc.rules, ruleBytes: enc.bytes, where: where?.bytes ?? null, whereText: where?.text ?? null };
}

export function requireXdpPrivileges(what: string): void {
  requireTracingPrivileges(what);
  if (!privileges().capNetAdmin) throw new PermissionError(`${what} needs CAP_NET_ADMIN (to attach to an interface), which this process lacks; run as root`);
}

export function configureCommon(obj: BpfObject, mode: number, nrules: number, ruleBytes: Uint8Array, dryRun: boolean, where: Uint8Array | null): void {
  obj.program("xdp_pass").setAutoload(false);
  obj.setConstant("cfg_mode", mode);
  obj.setConstant("cfg_nrules", nrules);
  if (nrules) obj.setConstant("cfg_rules", ruleBytes);
  obj.setConstant("cfg_dry_run", dryRun);
  obj.setConstant("cfg_has_where", where !== null);
  if (where) obj.setConstant("cfg_where", where);
}
