/* Names for the numbers in kernel events: enum values, flag sets, addresses. The
 * public API of analysis/names, in groups. */

// One field: the decoder from the best source there is; a table verb for many.
export { fieldNames, namedFields, printFmtOf, type NameDecoder, type FieldValue } from "./names.js";
export { withNames } from "./with-names.js";

// The sources, each usable on its own.
export { printFmtNames, splitPrintFmt, conversions, addressConversion, type PrintFmtNames, type PrintedField, type PrintedAddress, type PrintTable, type PrintFmtProblem, type NameSource } from "./print-fmt.js";
export { BtfEnums, enumNames, enumDecoder, decoderFor, type BtfEnum, type EnumSpec, type EnumNamesOptions } from "./btf-enums.js";
export { signalName, openFlagNames, capabilityName, syscallErrorName, errnoValueName, uapiSources, type NamesSource } from "./uapi.js";
export { formatIPv4, formatIPv6, formatSockaddr, formatMac, formatAddressValue, portFromNetwork, bytesOf, type AddressKind } from "./format-addr.js";
export { symbolName, flagNames, type NamedValue } from "./print-flags.js";
