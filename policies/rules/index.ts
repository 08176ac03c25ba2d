// The homelab-postgres policy rules, as plain data. Importing this module has no
// side effects (no gRPC server): `policies/index.ts` wraps the array in a
// PolicyPack, and the tests call each rule's validate function directly.
//
// How the engine presents values to these functions (@pulumi/policy 1.21):
// - resource rules get the resource's *inputs*; stack rules get each resource's
//   *outputs* (during preview: inputs plus unknown computed values);
// - secrets arrive unwrapped, with no marker (deserialize.js calls
//   deserializeProperties(..., proxySecrets=false) for analyze/analyzeStack), so a
//   rule cannot tell a secret from plaintext; see docs/policies.md;
// - a value not known yet during preview throws UnknownValueError when read. The
//   framework turns that into an advisory "can't run during preview" note; the
//   helpers in ../lib/props catch it where a partial answer is better, and
//   `pulumi up` runs every rule again with all values known.
//
// Violation messages never quote a value that could be a secret: they end up in
// CLI output and in the pull-request comment.
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { bucketHardenedPolicy, prodHasBackupPolicy } from "./backup";
import { builtImagesFromStackPolicy } from "./built-images";
import { containersHardenedPolicy } from "./containers";
import { noPasswordsInContainerConfigPolicy } from "./credentials";
import { containersNoHostAccessPolicy } from "./host-access";
import { imagesPinnedPolicy } from "./images";
import { roleMembershipSafePolicy } from "./membership";
import { portBindingPolicy } from "./network";
import { passwordLengthPolicy, rolesLeastPrivilegePolicy } from "./roles";

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  portBindingPolicy,
  imagesPinnedPolicy,
  containersHardenedPolicy,
  rolesLeastPrivilegePolicy,
  passwordLengthPolicy,
  bucketHardenedPolicy,
  prodHasBackupPolicy,
  noPasswordsInContainerConfigPolicy,
  containersNoHostAccessPolicy,
  roleMembershipSafePolicy,
  builtImagesFromStackPolicy,
];

// Every rule and helper, from the one module tests (and anything else) import.
export * from "./backup";
export * from "./built-images";
export * from "./containers";
export * from "./credentials";
export * from "./host-access";
export * from "./images";
export * from "./membership";
export * from "./network";
export * from "./roles";
export * from "../lib";
// The address and image-reference helpers the rules use come from the program's own lib.
export { ipInCidr, ipVersion, isUnspecified } from "../../components/lib/net";
export { imagePinProblems, isImageId, parseImageRef } from "../../components/lib/image-ref";
export type { ImageRef } from "../../components/lib/image-ref";
